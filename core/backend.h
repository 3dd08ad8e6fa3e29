// backend.h: the one interface every implementation of the model forward
// implements (reference/ on the CPU, kernels/ on CUDA), so harness/, tests/
// and bench/ drive them the same way.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/sampler.h"

namespace gp {

// Receives named activations during a forward, in float32, shaped (rows, cols)
// with rows = tokens of that forward. layer = -1 for the model-level points
// "embedding" and "final_norm"; per-layer points are "attn_norm", "q", "k",
// "v" (projections before RoPE), "attn_out" (after o_proj), "ffn_norm",
// "ffn_out" (after down_proj) and "out" (the layer's output). The names match
// golden/FORMAT.md.
class ActivationSink {
 public:
  virtual ~ActivationSink() = default;
  virtual void on_activation(int layer, const char* point, const float* data, int64_t rows,
                             int64_t cols) = 0;
};

// What a device backend's own allocator counted, for records (reports/FORMAT.md
// memory.measured). Empty (no categories) for a backend that counts nothing,
// like the reference, whose memory is its plan (core/memory_plan.h).
struct MemoryUse {
  std::vector<std::pair<std::string, int64_t>> peak_by_category;  // ("weights", peak live bytes), ...
  int64_t peak_bytes = 0;     // peak of the sum of live allocations (not the sum of the peaks)
  int64_t current_bytes = 0;  // live now
  // device memory in use when the backend was created that it did not
  // allocate: the CUDA context, libraries, other processes
  int64_t context_bytes = 0;
  int64_t device_in_use_bytes = -1;  // in use on the whole device now, as its driver says; -1: unknown
  bool empty() const { return peak_by_category.empty(); }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Empties the KV cache.
  virtual void reset() = 0;
  // tokens: (n) ids at positions pos..pos+n-1; the KV cache must hold exactly
  // pos tokens. logits: (n, vocab) when all_logits, else (1, vocab) for the
  // last token. Throws gp::Error on bad ids or a full cache.
  virtual void forward(const int32_t* tokens, int n, int pos, float* logits, bool all_logits) = 0;
  // Peak memory the backend holds for this model, in bytes (weights + cache + scratch).
  virtual int64_t memory_bytes() const = 0;
  virtual int vocab_size() const = 0;

  // Sizes the KV cache for `tokens` positions and the buffers of a forward of
  // up to `max_tokens` now instead of on demand (bench allocates as planned).
  // Default: nothing to do (the reference grows its cache as it goes).
  virtual void reserve(int tokens, int max_tokens) {}
  // What the backend's allocator counted; default: empty.
  virtual MemoryUse memory_use() const { return {}; }
  // One line: what the backend runs each op with, and what it decided at run
  // time (a vendor library refusing a shape, say). Default: name().
  virtual std::string description() const { return name(); }

  // The generation path, in two calls so that the forward and the choice of
  // the token can be timed apart. forward_for_sampling: forward() of the same
  // tokens, keeping the last token's logits where the backend computed them.
  // sample_next: the next token from those logits with `sampler`'s config and
  // RNG state, advanced exactly as sampler.sample would (one draw per sampled
  // token); history: the ids its repetition penalty applies to; logits, when
  // non-null, receives the (vocab) logits. Throws gp::Error where
  // sampler.sample would, and when no kept logits are there (one sample per
  // forward_for_sampling). The defaults copy the logits to the host and call
  // sampler.sample; a device backend samples on the device with the same
  // arithmetic (core/sampler_math.h) and copies back only the id.
  virtual void forward_for_sampling(const int32_t* tokens, int n, int pos);
  virtual int32_t sample_next(Sampler& sampler, const std::vector<int32_t>& history, float* logits);

  void set_activation_sink(ActivationSink* s) { sink_ = s; }

 protected:
  ActivationSink* sink_ = nullptr;

 private:
  std::vector<float> kept_logits_;  // the defaults' host copy of the last logits
  bool kept_ = false;
};

}  // namespace gp
