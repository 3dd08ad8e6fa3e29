// registry.h: the CUDA versions of every registered op (core/ops.h), keyed by
// op name like reference/registry.h, adapting host operands (float32
// activations, weights' stored bytes) to device buffers, rounding activations
// to f16 where the CUDA backends store f16, running the kernel on a stream of
// the table's own, and copying the result back as float32.
//
// cuda_ops(): goldpath's kernels. "linear" is LinearAlgo::Auto (Gemv for
// T <= 8, else Mma) and "attention" is attention_decode for T == 1, else
// attention_prefill; the versions also have names of their own:
// "linear.gemv", "linear.mma", "attention.prefill" (an op's versions are
// "<op>.<version>"; version_op_name gives back "<op>").
// cublas_ops(): the vendor baselines: "linear" through cublasGemmEx,
// "softmax" through cuDNN, "attention" through cuDNN's fused attention for
// prefill (T > 1; attention_prefill_cudnn) while decode (T == 1) stays
// goldpath's split-K kernel (a cuDNN graph is built per context length, and
// the CUDA-graph decode step reads its position from device memory);
// "attention.cudnn" is cuDNN's fused attention for every T, decode included.
// Every other op is goldpath's kernel.
// The tables can be listed without a device; calling an entry without one
// throws gp::Error saying why. An entry whose vendor library cannot run the
// operands on the device at hand (cuDNN's fused attention before sm_80, or a
// build without cuDNN or its frontend) throws gp::UnsupportedOp (core/ops.h), saying why:
// tests report it as skipped and benchmarks as not run, not as failures.
//
// The prepared tables (for timing): the same entries split in two, so that a
// benchmark uploads once and then times launches alone on device-resident
// operands. Prepare checks and uploads; launch only enqueues the kernels on
// op_stream() (no synchronization, no copies); finish waits and copies "out"
// back. rope and add work in place, so each launch changes their operands.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/ops.h"

namespace gp::cuda {

const std::map<std::string, OpFn>& cuda_ops();
const std::map<std::string, OpFn>& cublas_ops();

struct PreparedOp {
  std::function<void()> launch;         // enqueue the op's kernels on op_stream()
  std::function<void(OpArgs&)> finish;  // synchronize, check, write a["out"]
  int64_t device_bytes = 0;             // device memory its operands hold
};
using PrepareFn = std::function<PreparedOp(const OpArgs&)>;
const std::map<std::string, PrepareFn>& cuda_prepared_ops();    // the entries of cuda_ops()
const std::map<std::string, PrepareFn>& cublas_prepared_ops();  // the entries of cublas_ops()
cudaStream_t op_stream();  // the tables' stream (throws gp::Error without a device)
// "linear.gemv" -> "linear"; "linear" -> "linear"
std::string version_op_name(const std::string& entry);

}  // namespace gp::cuda
