// backend.h: the CUDA model forward, a gp::Backend (core/backend.h) doing the
// reference's math (reference/model.cpp) in the same order of ops with the
// kernels of kernels/ops.h. Two flavors: "cuda" (goldpath's kernels only) and
// "cublas" (cublasGemmEx for every linear, cuDNN's fused attention for
// prefill where the device has it (sm_80+), goldpath's kernels for the rest).
// Storage: weights as stored (f32/bf16 converted to f16, refused if a value
// overflows f16), norm weights f32, residual stream f32, other activations
// f16, KV cache f16 (S_cap, Hkv, hd) per layer. A decode step (one token) is
// captured once into a CUDA graph and replayed at every position. Built
// against the simulated device, the "cuda" flavor is "cuda-sim" and "cublas"
// is refused (kernels/register.cpp).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/model.h"
#include "kernels/device_memory.h"
#include "kernels/ops.h"

namespace gp::cuda {

enum class Flavor {
  Custom,  // "cuda": LinearAlgo::Auto
  Cublas,  // "cublas": LinearAlgo::Cublas for every linear
};
// "" when this build of kernels/ runs flavor f, else why not (kernels/register.cpp)
std::string flavor_unavailable(Flavor f);

class CudaBackend : public Backend {
 public:
  // Uploads the weights; throws gp::Error without a device, for an
  // unsupported model, a weight that overflows f16, or too little memory.
  CudaBackend(const Model& m, Flavor f);
  ~CudaBackend() override;
  std::string name() const override;  // the registered name (kernels/register.cpp)
  void reset() override;
  void forward(const int32_t* tokens, int n, int pos, float* logits, bool all_logits) override;
  int64_t memory_bytes() const override { return alloc_->total_peak(); }
  int vocab_size() const override { return m_.cfg.vocab_size; }
  // Keeps the logits on the device; sample_next runs kernels/sample.cu on them
  // and copies back the id and the RNG state (and the logits when asked).
  void forward_for_sampling(const int32_t* tokens, int n, int pos) override;
  int32_t sample_next(Sampler& sampler, const std::vector<int32_t>& history, float* logits) override;

  // Sizes the KV cache for `tokens` positions and the activations for a
  // forward of `max_tokens` now instead of on demand.
  void reserve(int tokens, int max_tokens) override;
  // The allocator's report by category, and the device's memory in use now.
  MemoryUse memory_use() const override;
  // The flavor's description, and any prefill cuDNN refused (goldpath's kernel ran it).
  std::string description() const override;
  // Decode steps through a CUDA graph (default) or as ordinary launches.
  void set_use_graphs(bool on) { use_graphs_ = on; }
  int graph_captures() const { return graph_captures_; }  // times a decode graph was captured
  MemoryReport memory_report() const { return alloc_->report(); }
  // "cublas": "" when prefill attention runs through cuDNN, else why it does
  // not (then goldpath's kernel runs it); "cuda": not applicable, "".
  const std::string& cudnn_attention_unsupported() const { return cudnn_attention_why_; }
  // "" until cuDNN refuses a prefill shape that its support rules allowed,
  // then the first such shape and why (goldpath's kernel ran those prefills).
  const std::string& cudnn_refused() const { return cudnn_refused_; }

 private:
  struct Layer {
    DeviceWeight wq, wk, wv, wo, w_gate, w_up, w_down;
    const float* attn_norm = nullptr;  // (dim) f32
    const float* ffn_norm = nullptr;
  };

  DeviceWeight upload_weight(const TensorView& t, const std::string& what);
  const float* upload_norm(const TensorView& t, const std::string& what);
  void ensure_cache(int tokens);        // KV cache holds >= tokens positions
  void ensure_activations(int T);       // activation buffers for T tokens
  void enqueue_forward(int T, int pos, int rows, bool decode);  // all launches of one forward
  void tap(int layer, const char* point, const void* dev, bool is_f16, int64_t rows, int64_t cols);
  void drop_graph();
  // checks, uploads, enqueues and waits for one forward; copies `rows` rows of
  // logits to `logits` when non-null
  void run_forward(const int32_t* tokens, int n, int pos, int rows, float* logits);
  LinearAlgo algo() const { return flavor_ == Flavor::Cublas ? LinearAlgo::Cublas : LinearAlgo::Auto; }
  void linear_f16(half* out, const half* x, const DeviceWeight& w, int T);
  // cuDNN's fused attention for a prefill; false (having noted why in
  // cudnn_refused_) when cuDNN refuses the shape, and nothing was enqueued
  bool attention_prefill_vendor(half* out, const half* q, const half* kc, const half* vc, int T, int pos,
                                const AttentionShape& as);

  const Model& m_;
  Flavor flavor_;
  std::unique_ptr<DeviceAllocator> alloc_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;  // set when prefill attention runs through cuDNN (the process's handle)
  std::string cudnn_attention_why_;
  std::string cudnn_refused_;      // see cudnn_refused()
  DeviceBuffer cudnn_ws_;          // its workspace, grown per prefill shape

  // weights
  std::vector<DeviceBuffer> weight_bufs_;
  DeviceWeight tok_embd_, lm_head_;
  const float* final_norm_ = nullptr;
  std::vector<Layer> layers_;
  DeviceBuffer inv_freq_;  // (hd/2) f32
  size_t linear_ws_bytes_ = 0;
  DeviceBuffer linear_ws_, cublas_ws_;

  // KV cache: per layer (S_cap, Hkv, hd) f16
  std::vector<DeviceBuffer> k_cache_, v_cache_;
  int cache_cap_ = 0;
  int cached_ = 0;
  DeviceBuffer partials_;  // attention_decode partials for max_ctx = cache_cap_

  // activations for up to act_cap_ tokens
  int act_cap_ = 0;
  DeviceBuffer ids_, pos0_, bad_id_;  // int32 (T), int, int
  DeviceBuffer x_;                    // (T, D) f32 residual
  DeviceBuffer xn_, q_, k_, v_, att_, o_, g_, u_, h_;  // f16
  DeviceBuffer logits_;               // (T, V) f32

  // device sampling: the last row of logits_ is kept for sample_next
  bool kept_ = false;
  DeviceBuffer sample_scratch_, sample_io_;  // scratch; id (int32) + RNG state (u64)
  DeviceBuffer history_;                     // int32 (max_seq_len), for the repetition penalty

  // decode graph
  bool use_graphs_ = true;
  cudaGraphExec_t graph_exec_ = nullptr;
  int graph_captures_ = 0;
};

}  // namespace gp::cuda
