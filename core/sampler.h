// sampler.h: turning logits into a token id, seeded and deterministic.
//
// The draw is specified so another backend reproduces it from the same
// logits and seed (the arithmetic is in sampler_math.h, shared with CUDA):
//  1. repetition penalty (transformers' rule) on every id in the history:
//     logit > 0 ? logit / p : logit * p
//  2. temperature == 0: greedy, argmax with the lowest id winning ties. Stop.
//  3. logits / temperature
//  4. candidates sorted by logit descending, ties by lower id; top_k > 0
//     keeps the first top_k
//  5. probabilities p_i = exp(l_i - l_max) / sum, in double, in sorted order
//     (exp is sampler_exp, so every backend gets the same bits)
//  6. top_p < 1: keep the shortest prefix whose cumulative p >= top_p (at least one)
//  7. min_p > 0: keep candidates with p_i >= min_p * p_max (renormalized after 6)
//  8. u = the next draw of the RNG in [0, 1) (SplitMix64, 53 bits); walk the kept
//     candidates in sorted order accumulating p in double; pick the first
//     whose cumulative sum exceeds u * total (the last one if none does).
// One RNG draw per sampled token; greedy draws nothing.
#pragma once
#include <cstdint>
#include <vector>

namespace gp {

struct SamplerConfig {
  float temperature = 0.0f;  // 0 = greedy
  int top_k = 0;             // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off
  float repetition_penalty = 1.0f;  // 1 = off
  uint64_t seed = 0;
};

// Throws gp::Error naming the bad field (negative temperature, top_p outside (0,1], ...).
void validate(const SamplerConfig& c);

class Sampler {
 public:
  Sampler(const SamplerConfig& cfg, int vocab_size);
  // logits: (vocab) -> token id. history: ids the repetition penalty applies to.
  int32_t sample(const float* logits, const std::vector<int32_t>& history);
  uint64_t rng_state() const { return state_; }
  // for a backend that drew on the device (Backend::sample_next)
  void set_rng_state(uint64_t s) { state_ = s; }
  const SamplerConfig& config() const { return cfg_; }
  int vocab_size() const { return vocab_; }

 private:
  SamplerConfig cfg_;
  int vocab_;
  uint64_t state_;
  std::vector<float> work_;
  std::vector<int32_t> order_;
  std::vector<double> probs_;
};

}  // namespace gp
