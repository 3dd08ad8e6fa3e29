// sampler_math.h: the sampler's arithmetic shared by host and device. Every
// step that decides a token (the exp of step 5, the sums and cuts of steps
// 6-8) is a GP_HD function here, written so host and device round alike:
// multiply-adds are explicit fma() and the remaining products go through
// sampler_mul, which a device compiler may not fuse into a caller's add.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

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

GP_HD double sampler_mul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);  // never contracted into an fma
#else
  return a * b;
#endif
}

GP_HD double sampler_pow2(int k) {  // 2^k for -1022 <= k <= 1023
  const uint64_t bits = (uint64_t)(k + 1023) << 52;
#if defined(__CUDA_ARCH__)
  return __longlong_as_double((long long)bits);
#else
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
#endif
}

// e^x in double, the same bits on host and device (libm and CUDA's exp may
// differ in the last bit). x = k ln2 + r with |r| <= ln2/2 (Cody-Waite split
// of ln2, as fdlibm), e^r by its Taylor series to r^13 (truncation < 2^-56
// relative), scaled by 2^k. Within 2 ulps of e^x.
GP_HD double sampler_exp(double x) {
  if (x != x) return x;                        // nan
  if (x > 709.782712893384) return HUGE_VAL;   // overflows
  if (x < -745.1332191019412) return 0.0;      // underflows
  const double k = ::floor(::fma(x, 1.4426950408889634, 0.5));  // nearest k to x / ln2
  double r = ::fma(-k, 6.93147180369123816490e-01, x);          // ln2 high bits: k*hi is exact
  r = ::fma(-k, 1.90821492927058770002e-10, r);                 // ln2 low bits
  double p = 1.0 / 6227020800.0;                                // 1/13!
  p = ::fma(p, r, 1.0 / 479001600.0);
  p = ::fma(p, r, 1.0 / 39916800.0);
  p = ::fma(p, r, 1.0 / 3628800.0);
  p = ::fma(p, r, 1.0 / 362880.0);
  p = ::fma(p, r, 1.0 / 40320.0);
  p = ::fma(p, r, 1.0 / 5040.0);
  p = ::fma(p, r, 1.0 / 720.0);
  p = ::fma(p, r, 1.0 / 120.0);
  p = ::fma(p, r, 1.0 / 24.0);
  p = ::fma(p, r, 1.0 / 6.0);
  p = ::fma(p, r, 0.5);
  p = ::fma(p, r, 1.0);
  p = ::fma(p, r, 1.0);  // e^r
  const int ki = (int)k;
  if (ki > 1023) return sampler_mul(sampler_mul(p, 2.0), sampler_pow2(ki - 1));
  if (ki < -1022) return sampler_mul(sampler_mul(p, sampler_pow2(ki + 54)), sampler_pow2(-54));
  return sampler_mul(p, sampler_pow2(ki));
}

// Steps 6-8 of the sampler (sampler.h) on the candidates' unnormalized
// probabilities probs (n >= 1) in sorted order: top-p, min-p, then one draw
// from *state. Returns the index of the chosen candidate in that order.
GP_HD int sampler_pick(const double* probs, int n, float top_p, float min_p, uint64_t* state) {
  double total = 0;
  for (int i = 0; i < n; i++) total += probs[i];
  // 6. top-p: shortest prefix reaching top_p
  if (top_p < 1.0f) {
    double cum = 0;
    int keep = n;
    for (int i = 0; i < n; i++) {
      cum += probs[i] / total;
      if (cum >= top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
    total = 0;
    for (int i = 0; i < n; i++) total += probs[i];
  }
  // 7. min-p relative to the most likely candidate
  if (min_p > 0.0f) {
    const double threshold = sampler_mul((double)min_p, probs[0] / total);
    int keep = 1;
    while (keep < n && probs[keep] / total >= threshold) keep++;
    n = keep;
    total = 0;
    for (int i = 0; i < n; i++) total += probs[i];
  }
  // 8. one draw
  const double u = sampler_mul(uniform01(splitmix64_next(state)), total);
  double cum = 0;
  for (int i = 0; i < n; i++) {
    cum += probs[i];
    if (cum > u) return i;
  }
  return n - 1;
}

}  // namespace gp
