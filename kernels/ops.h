// ops.h: the CUDA kernels of the generation path, one launcher per op and
// version. Every pointer is device memory; every launcher enqueues on
// `stream`, checks the launch (GP_CUDA_CHECK(cudaGetLastError())), never
// synchronizes and never allocates (scratch comes from the caller), so a
// decode step can be captured in a CUDA graph. Unsupported shapes or dtypes
// throw gp::Error naming what is unsupported.
//
// Storage: activations and the KV cache are f16, every reduction accumulates
// in f32, and reductions use a fixed order (no atomics), so the same inputs
// give bitwise-identical outputs run after run. The residual stream is f32:
// it is itself an accumulation (each layer adds a small update to it).
// Weights stay in their stored format; f32 and bf16 weights are converted to
// f16 when uploaded (CudaBackend counts values that overflow f16 and refuses
// the model if any do); q8_0, q4_0, q4_1 are read natively.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/sampler.h"

typedef struct cublasContext* cublasHandle_t;
typedef struct cudnnContext* cudnnHandle_t;

namespace gp::cuda {

// A weight matrix (rows, cols) in device memory, in its stored layout
// (row-major; quantized rows are cols/32 blocks). dtype: F16, Q8_0, Q4_0, Q4_1.
struct DeviceWeight {
  DType dtype = DType::F16;
  const uint8_t* data = nullptr;
  int64_t rows = 0, cols = 0;
};

// ---- kernels/elementwise.cu ---------------------------------------------
// out (T,D) f32 = table[ids[t]] for a table (V,D) of any stored dtype (F32,
// F16, BF16, Q8_0, Q4_0, Q4_1). An id outside [0,V) writes NaNs into its row
// and sets *bad_id (device int, may be null) to 1 + the row index; the caller
// zeroes *bad_id beforehand, and with several bad ids it names the first row.
void embedding(float* out, const DeviceWeight& table, const int32_t* ids, int T, int* bad_id,
               cudaStream_t stream);
// out (T,D) f16 = x / sqrt(mean(x^2) + eps) * weight, x f32 or f16 (x_f16 != null picks it).
void rmsnorm(half* out, const float* x, const half* x_f16, const float* weight, int T, int D,
             float eps, cudaStream_t stream);
// In place on x (T,H,hd) f16: rotate-half RoPE at positions[t] (device) or,
// when positions is null, at *d_pos0 + t (device int; decode graphs).
// inv_freq: (hd/2) f32 device table made on the host by core/rope.h
// (rope_inv_freq, float32 like transformers), angle = pos * inv_freq[i]
// (core/rope.h rope_angle, GP_HD). hd even, <= 256.
void rope(half* x, const int32_t* positions, const int* d_pos0, const float* inv_freq, int T,
          int H, int hd, cudaStream_t stream);
// out (n) f16 = silu(gate) * up; gate/up read with a row stride so a fused
// gate_up projection (T, 2F) can be passed as gate = gu, up = gu + F, ld = 2F.
void swiglu(half* out, const half* gate, const half* up, int T, int F, int64_t ld,
            cudaStream_t stream);
// residual (n) f32 += delta (n) f16
void add_residual(float* residual, const half* delta, int64_t n, cudaStream_t stream);
// out (T,N) f32 = softmax of x (T,N) f32 over the last axis
void softmax(float* out, const float* x, int T, int N, cudaStream_t stream);
// conversions
void f32_to_f16(half* out, const float* in, int64_t n, cudaStream_t stream);
void f16_to_f32(float* out, const half* in, int64_t n, cudaStream_t stream);

// ---- kernels/linear.cu ----------------------------------------------------
// out (T,N) = x (T,K) f16 @ w (N,K)^T, accumulated in f32, written as f16
// (out_f16) or f32 (out_f32; exactly one is non-null). K: a multiple of 32
// (quantized) or 8 (f16); x and f16 weights 16-byte aligned; any T > 0, N.
enum class LinearAlgo {
  Auto,     // Gemv for T <= 8, else Mma
  Gemv,     // one warp per output row, reads quantized blocks natively; 8 rows
            // of x per pass over the weights (larger T: ceil(T/8) passes)
  Mma,      // tensor cores: mma.sync m16n8k8 f16 + ldmatrix (sm_75 and newer);
            // quantized tiles are dequantized to f16 in shared memory
  Cublas,   // vendor: cublasGemmEx; quantized weights are first dequantized
            // into `workspace` (vendor libraries cannot read q4/q8 blocks)
};
// workspace: device scratch of linear_workspace_bytes(w, algo) bytes (may be
// null when that is 0). cublas: a handle bound to `stream` (Cublas only).
size_t linear_workspace_bytes(const DeviceWeight& w, LinearAlgo algo);
void linear(half* out_f16, float* out_f32, const half* x, const DeviceWeight& w, int T,
            LinearAlgo algo, void* workspace, cublasHandle_t cublas, cudaStream_t stream);

// ---- kernels/attention.cu -------------------------------------------------
// Causal attention with GQA and an optional sliding window, softmax scale
// 1/sqrt(hd). q (T,Hq,hd) f16 at positions pos0..pos0+T-1 (after RoPE);
// k_cache/v_cache (S_cap,Hkv,hd) f16 hold positions 0..pos0+T-1 (the new rows
// already written). Query t sees keys j with j <= pos0+t and, when window > 0,
// pos0+t - j < window. out (T,Hq,hd) f16. hd: multiple of 8, <= 256; Hq a
// multiple of Hkv; q and the caches 16-byte aligned.
//
// attention_prefill: ordinary launch, any T (flash attention, f32 softmax).
// attention_decode: T == 1, the query at position *d_pos0 (device int) sees
// keys 0..*d_pos0, so a captured graph can be replayed at every position.
// The keys are split across blocks of 128 keys; each block writes its (m, l,
// acc) state to `partials` ((Hq, ceil(max_ctx/128), 2+hd) f32, of
// attention_decode_partials_bytes(s, max_ctx) bytes), and a second kernel
// merges the states in split order with core/softmax_merge.h. max_ctx bounds
// the grid: a position outside [0, max_ctx) writes NaN.
struct AttentionShape {
  int Hq = 0, Hkv = 0, hd = 0;
  int window = 0;  // 0 = none
};
void attention_prefill(half* out, const half* q, const half* k_cache, const half* v_cache,
                       int T, int pos0, const AttentionShape& s, cudaStream_t stream);
size_t attention_decode_partials_bytes(const AttentionShape& s, int max_ctx);
void attention_decode(half* out, const half* q, const half* k_cache, const half* v_cache,
                      const int* d_pos0, int max_ctx, const AttentionShape& s, float* partials,
                      cudaStream_t stream);
// Writes k and v rows (T,Hkv,hd) f16 into the caches at pos0 (host) or
// *d_pos0 (device, when non-null); the caller sizes the caches. hd multiple of 8.
void kv_write(half* k_cache, half* v_cache, const half* k, const half* v, int T, int pos0,
              const int* d_pos0, int Hkv, int hd, cudaStream_t stream);

// ---- kernels/sample.cu ----------------------------------------------------
// One token from logits (vocab) f32 with core's sampler arithmetic
// (core/sampler.h, core/sampler_math.h): *out_id (device) = the same id the
// CPU Sampler gives for the same logits, config and RNG state. *rng_state
// (device) is advanced as the CPU does (one draw per non-greedy token; may be
// null when temperature is 0). Where the CPU Sampler throws (a NaN logit, a
// history id outside the vocabulary), *out_id = -1 and nothing is drawn.
// history: device ids the repetition penalty applies to. scratch: device
// memory of sample_scratch_bytes(vocab). p.seed is not read: the RNG state is
// *rng_state.
size_t sample_scratch_bytes(int vocab);
void sample(int32_t* out_id, const float* logits, int vocab, const SamplerConfig& p,
            const int32_t* history, int n_history, uint64_t* rng_state, void* scratch,
            cudaStream_t stream);

// ---- kernels/vendor.cu ----------------------------------------------------
// cuDNN's softmax (cudnnSoftmaxForward, accurate mode) as the vendor version
// of `softmax`.
void softmax_cudnn(float* out, const float* x, int T, int N, cudnnHandle_t cudnn,
                   cudaStream_t stream);
// The current device's cuDNN handle, created on first use and kept for the
// life of the process (cached cuDNN plans refer to it, see below); callers
// bind it to their stream (the cuDNN launchers here do on every call).
// Throws gp::Error in a build without cuDNN.
cudnnHandle_t process_cudnn_handle();

// ---- kernels/vendor_attention.cpp -----------------------------------------
// cuDNN's fused attention (the cuDNN frontend's SDPA graph; f16 in and out,
// f32 softmax and accumulation) as the vendor version of attention_prefill,
// with its semantics and operands: q (T,Hq,hd) at positions pos0..pos0+T-1,
// caches (S_cap,Hkv,hd) holding positions 0..pos0+T-1, out (T,Hq,hd), causal,
// GQA, scale 1/sqrt(hd), optional sliding window; pointers 16-byte aligned.
// cuDNN runs it on sm_80 and newer, for head sizes a multiple of 8 up to 256
// (the cuDNN version at hand may allow less: its frontend then says so).
//
// attention_cudnn_unsupported_reason: "" when nothing known before a graph is
// built rules out shape `s` on a device of compute capability
// cc_major.cc_minor, else the reason in words (this build lacks cuDNN or its
// frontend; the device is older than sm_80; the head size or heads). Needs no
// device. attention_cudnn_unsupported: the same for device `device` ("no CUDA
// device: ..." without one).
std::string attention_cudnn_unsupported_reason(const AttentionShape& s, int cc_major, int cc_minor);
std::string attention_cudnn_unsupported(const AttentionShape& s, int device);
// Builds, once per (handle, device, T, pos0 + T, s), the graph of a prefill of
// T > 0 queries at pos0 on the current device and keeps it for the process
// (so `cudnn` must live as long; goldpath's handles are never destroyed).
// Returns "" and sets *workspace_bytes when cuDNN supports it, else the
// reason (the device or shape, or the frontend's own message).
std::string attention_prefill_cudnn_plan(int T, int pos0, const AttentionShape& s, cudnnHandle_t cudnn,
                                         size_t* workspace_bytes);
// Enqueues the plan on `stream` (binds `cudnn` to it); builds the plan first
// when attention_prefill_cudnn_plan has not. workspace: device scratch of at
// least the plan's workspace_bytes. Throws gp::Error with the reason when
// cuDNN does not support the prefill.
void attention_prefill_cudnn(half* out, const half* q, const half* k_cache, const half* v_cache, int T,
                             int pos0, const AttentionShape& s, void* workspace, size_t workspace_bytes,
                             cudnnHandle_t cudnn, cudaStream_t stream);

}  // namespace gp::cuda
