// generate.h: the generation loop over any Backend: prefill the prompt, then
// decode one token at a time, sampling with core's Sampler arithmetic where
// the backend keeps the logits (Backend::forward_for_sampling / sample_next).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/backend.h"
#include "core/sampler.h"

namespace gp {

struct GenerateOptions {
  int max_new_tokens = 64;
  SamplerConfig sampler;
  bool stop_at_eos = true;  // stop after one of cfg.eos_ids (the EOS id is kept, as transformers does)
  bool keep_logits = false; // fill GenerateResult::logits
};

struct GenerateResult {
  std::vector<int32_t> prompt;
  std::vector<int32_t> generated;
  std::vector<std::vector<float>> logits;  // (generated, vocab) when keep_logits
  double prefill_s = 0;  // wall time of the prompt forward (time to first token minus sampling)
  double ttft_s = 0;     // prompt forward + choosing the first token
  double decode_s = 0;   // wall time of all later forwards and samples
  bool stopped_at_eos = false;
  double prefill_tok_s() const { return prefill_s > 0 ? prompt.size() / prefill_s : 0; }
  double decode_tok_s() const {
    return decode_s > 0 && generated.size() > 1 ? (generated.size() - 1) / decode_s : 0;
  }
};

// on_token(id) is called as each token is chosen (for streaming).
GenerateResult generate(Backend& be, const ModelConfig& cfg, const std::vector<int32_t>& prompt,
                        const GenerateOptions& opt,
                        const std::function<void(int32_t)>& on_token = nullptr);

}  // namespace gp
