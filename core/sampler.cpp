// sampler.cpp: the sampler specified in sampler.h.
#include "core/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/sampler_math.h"

namespace gp {

void validate(const SamplerConfig& c) {
  GP_CHECK(std::isfinite(c.temperature) && c.temperature >= 0.0f,
           "--temperature must be >= 0, got ", c.temperature);
  GP_CHECK(c.top_k >= 0, "--top-k must be >= 0, got ", c.top_k);
  GP_CHECK(std::isfinite(c.top_p) && c.top_p > 0.0f && c.top_p <= 1.0f,
           "--top-p must be in (0, 1], got ", c.top_p);
  GP_CHECK(std::isfinite(c.min_p) && c.min_p >= 0.0f && c.min_p <= 1.0f,
           "--min-p must be in [0, 1], got ", c.min_p);
  GP_CHECK(std::isfinite(c.repetition_penalty) && c.repetition_penalty > 0.0f,
           "--repetition-penalty must be > 0, got ", c.repetition_penalty);
}

Sampler::Sampler(const SamplerConfig& cfg, int vocab_size)
    : cfg_(cfg), vocab_(vocab_size), state_(cfg.seed) {
  validate(cfg);
  GP_CHECK(vocab_size > 0, "sampler: vocabulary size must be positive");
}

int32_t Sampler::sample(const float* logits, const std::vector<int32_t>& history) {
  const int V = vocab_;
  work_.assign(logits, logits + V);
  for (int32_t id : history)
    GP_CHECK(id >= 0 && id < V, "sampler: history id ", id, " outside the vocabulary");
  // 1. repetition penalty, once per distinct id
  if (cfg_.repetition_penalty != 1.0f) {
    std::vector<char> seen(V, 0);
    for (int32_t id : history) {
      if (seen[id]) continue;
      seen[id] = 1;
      work_[id] = repetition_penalize(work_[id], cfg_.repetition_penalty);
    }
  }
  for (int i = 0; i < V; i++)
    GP_CHECK(!std::isnan(work_[i]), "sampler: logit ", i, " is NaN");
  // 2. greedy
  if (cfg_.temperature == 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < V; i++)
      if (candidate_before(work_[i], i, work_[best], best)) best = i;
    return best;
  }
  // 3. temperature
  for (int i = 0; i < V; i++) work_[i] /= cfg_.temperature;
  // 4. sort, top-k
  order_.resize(V);
  for (int i = 0; i < V; i++) order_[i] = i;
  int n = V;
  auto before = [&](int32_t a, int32_t b) { return candidate_before(work_[a], a, work_[b], b); };
  if (cfg_.top_k > 0 && cfg_.top_k < V) {
    n = cfg_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + n, order_.end(), before);
  } else {
    std::sort(order_.begin(), order_.end(), before);
  }
  // 5. probabilities in sorted order (sampler_exp: the same bits as the GPU)
  probs_.resize(n);
  const double lmax = work_[order_[0]];
  for (int i = 0; i < n; i++) probs_[i] = sampler_exp((double)work_[order_[i]] - lmax);
  // 6-8. top-p, min-p, one draw
  return order_[sampler_pick(probs_.data(), n, cfg_.top_p, cfg_.min_p, &state_)];
}

}  // namespace gp
