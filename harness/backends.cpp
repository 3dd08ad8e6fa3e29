// backends.cpp: backend selection (backends.h). The CUDA backends ("cuda":
// goldpath's kernels, "cublas": cuBLAS for every linear,
// cuDNN's fused attention for prefill where the device has it) join the table when
// this build has kernels/ (GOLDPATH_HAVE_CUDA) and a device is present.
#include "harness/backends.h"

#include "core/error.h"
#include "reference/model.h"
#include "reference/registry.h"
#ifdef GOLDPATH_HAVE_CUDA
#include "kernels/backend.h"
#include "kernels/device.h"
#include "kernels/registry.h"
#endif

namespace gp {
namespace {

const char* const kCudaBackends[] = {"cuda", "cublas"};

// "" when the CUDA backends can run here, else why not
std::string cuda_unavailable() {
#ifdef GOLDPATH_HAVE_CUDA
  static const std::string why = [] {
    std::string w;
    return cuda::device_count(&w) > 0 ? std::string() : (w.empty() ? std::string("no CUDA device") : w);
  }();
  return why;
#else
  return "this build has no CUDA (kernels/ is built only when CMake finds nvcc)";
#endif
}

bool is_cuda_backend(const std::string& name) { return name == "cuda" || name == "cublas"; }

}  // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> out = {"reference"};
  if (cuda_unavailable().empty())
    for (const char* b : kCudaBackends) out.push_back(b);
  return out;
}

std::map<std::string, std::string> unavailable_backends() {
  std::map<std::string, std::string> out;
  const std::string why = cuda_unavailable();
  if (!why.empty())
    for (const char* b : kCudaBackends) out[b] = why;
  return out;
}

std::vector<std::string> select_backends(const std::string& arg) {
  if (arg == "all") return available_backends();
  for (const auto& b : available_backends())
    if (b == arg) return {b};
  auto un = unavailable_backends();
  auto it = un.find(arg);
  if (it != un.end()) fail("--backend ", arg, " is not available: ", it->second);
  std::string known = "all";
  for (const auto& b : available_backends()) known += ", " + b;
  for (const auto& [b, why] : un) known += ", " + b;
  fail("--backend ", arg, " is unknown (known: ", known, ")");
}

std::unique_ptr<Backend> make_backend(const std::string& name, const Model& m) {
  if (name == "reference") return std::make_unique<ref::ReferenceBackend>(m);
  if (is_cuda_backend(name)) {
    const std::string why = cuda_unavailable();
    if (!why.empty()) fail("backend ", name, " cannot be created: ", why);
#ifdef GOLDPATH_HAVE_CUDA
    return std::make_unique<cuda::CudaBackend>(m, name == "cublas" ? cuda::Flavor::Cublas : cuda::Flavor::Custom);
#endif
  }
  fail("backend ", name, " cannot be created here");
}

const std::map<std::string, OpFn>& backend_ops(const std::string& name) {
  if (name == "reference") return ref::reference_ops();
#ifdef GOLDPATH_HAVE_CUDA
  if (name == "cuda") return cuda::cuda_ops();
  if (name == "cublas") return cuda::cublas_ops();
#endif
  fail("backend ", name, " has no op table", is_cuda_backend(name) ? ": " + cuda_unavailable() : std::string());
}

DType storage_dtype(const std::string& name) {
  // any other backend (a test's wrapper, say) is held to the strictest bound
  return is_cuda_backend(name) ? DType::F16 : DType::F32;
}

std::string backend_description(const std::string& name) {
  if (name == "reference") return "reference: naive CPU ops, float32 activations and KV cache, double accumulation";
  if (name == "cuda")
    return "cuda: goldpath's kernels for every op (linear: GEMV for up to 8 tokens, tensor-core mma.sync GEMM "
           "above), f16 activations and KV cache, f32 accumulation, decode step as a CUDA graph";
  if (name == "cublas") {
    std::string d = "cublas: vendor baseline: every linear through cuBLAS (quantized weights expanded to f16 "
                    "first), prefill attention through cuDNN's fused attention";
#ifdef GOLDPATH_HAVE_CUDA
    // the device and build decide (any head size the CUDA backend takes passes cuDNN's shape checks)
    const std::string why = cuda::attention_cudnn_unsupported(cuda::AttentionShape{1, 1, 64, 0}, 0);
#else
    const std::string why = "this build has no CUDA";
#endif
    d += why.empty() ? " (op-level too: attention.cudnn)" : " where cuDNN has it: not here, " + why + ", so goldpath's kernel";
    d += ", decode attention by goldpath's split-K kernel (a cuDNN graph is built per context length; the decode "
         "step is one CUDA graph for every position), the other ops by goldpath's kernels; op-level softmax through cuDNN";
#ifndef GOLDPATH_HAVE_CUDNN
    d += " (not in this build: cuDNN was not found at configure time)";
#endif
    return d;
  }
  fail("backend ", name, " is unknown");
}

}  // namespace gp
