// model.h: the reference model forward (prefill of a block of tokens, decode
// of one token against the KV cache), built from reference/ops.h.
#pragma once
#include <memory>
#include <vector>

#include "core/backend.h"
#include "core/model.h"

namespace gp::ref {

class ReferenceBackend : public Backend {
 public:
  explicit ReferenceBackend(const Model& m);
  std::string name() const override { return "reference"; }
  void reset() override;
  void forward(const int32_t* tokens, int n, int pos, float* logits, bool all_logits) override;
  int64_t memory_bytes() const override;
  int vocab_size() const override { return m_.cfg.vocab_size; }
  std::string description() const override;  // reference/register.cpp

 private:
  // grows the KV cache to hold S tokens and checks that it, the scratch of a
  // forward of T tokens and the weights fit in the host memory cap
  void grow(int64_t S, int64_t T);

  const Model& m_;
  // norm weights as float32
  std::vector<std::vector<float>> attn_norm_, ffn_norm_;  // (layer, dim)
  std::vector<float> final_norm_;                         // (dim)
  // KV cache in float32, after RoPE: (layer, pos, n_kv_heads * head_dim)
  std::vector<std::vector<float>> k_cache_, v_cache_;
  int cached_ = 0;
  int64_t peak_scratch_ = 0;
};

}  // namespace gp::ref
