// backend.h: the one interface every implementation of the model forward
// implements (reference/ on the CPU, kernels/ on CUDA), so harness/, tests/
// and bench/ drive them the same way.
#pragma once
#include <cstdint>
#include <string>

#include "core/model.h"

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

  void set_activation_sink(ActivationSink* s) { sink_ = s; }

 protected:
  ActivationSink* sink_ = nullptr;
};

}  // namespace gp
