// sampler_math.h: the sampler's arithmetic shared by host and device.
#pragma once
#include <cstdint>

#include "core/hd.h"

namespace gp {

// SplitMix64 (Steele, Lea, Flood 2014): advances state, returns 64 random bits.
GP_HD uint64_t splitmix64_next(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform double in [0, 1) from the top 53 bits.
GP_HD double uniform01(uint64_t bits) { return (double)(bits >> 11) * (1.0 / 9007199254740992.0); }

// transformers' RepetitionPenaltyLogitsProcessor rule.
GP_HD float repetition_penalize(float logit, float penalty) {
  return logit > 0.0f ? logit / penalty : logit * penalty;
}

// Sort order of candidates: higher logit first, lower id on ties.
GP_HD bool candidate_before(float la, int32_t ia, float lb, int32_t ib) {
  return la > lb || (la == lb && ia < ib);
}

}  // namespace gp
