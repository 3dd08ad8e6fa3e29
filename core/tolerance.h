// tolerance.h: every tolerance goldpath applies, in one place, each with its
// reason. A bound is derived from the oracle's own low-precision noise where
// the golden file stores it (lowp_max_abs: the deviation of transformers run
// in float16/bfloat16 from transformers run in float32 on the same input).
#pragma once
#include <algorithm>

namespace gp {

struct Tolerance {
  // allowed max |got - want| = max(lowp_fraction * lowp_max_abs,
  //                                rel_floor * max|want|, abs_floor)
  double lowp_fraction;
  double rel_floor;
  double abs_floor;
  const char* reason;

  double bound(double lowp_max_abs, double max_abs_want) const {
    return std::max({lowp_fraction * lowp_max_abs, rel_floor * max_abs_want, abs_floor});
  }
};

// The reference (float32 storage, double accumulation) against the float32
// oracle. Both compute the same math in float32 or better, so their gap is a
// few float32 roundings per reduction (~1e-6 relative), while a half-precision
// oracle deviates by ~1e-3 relative. Allowing 5% of the half-precision noise
// leaves a 20x margin over float32 rounding yet flags any real bug, which moves
// outputs by at least the size of the noise. The relative floor (16 float32
// ulps of the largest value) covers outputs exact in half precision (an
// embedding lookup), where lowp_max_abs is 0.
constexpr Tolerance kReferenceVsGolden{0.05, 16 * 1.1920929e-7, 1e-30,
                                       "float32 reference vs float32 oracle: 5% of the oracle's "
                                       "half-precision noise"};

// An implementation that stores activations in float16 (CUDA kernels),
// against the reference: at most twice the oracle's own float16 noise on the
// same op (the criterion FlashAttention uses: "at most 2x the error of a
// plain low-precision implementation"), with a floor of 2 float16 ulps
// (2^-9 relative) of the largest value for exact-in-fp16 outputs.
//
// For model activations the noise is the oracle's over comparable samples
// (harness/verify.cpp, model_noise): a decode step's tensor is one token, and
// the maximum of its noise over 32-64 values varies several-fold from step
// to step, for the oracle and for a correct float16 implementation alike, so
// a decode point is held to the oracle's noise of that point over all stored
// decode steps. The residual stream (point "out") is a running sum that keeps
// an absolute error when later layers subtract from it, so its bound at a
// layer is at least its bound at every earlier stored layer. Both apply to
// every backend, with that backend's fraction of the noise. The case behind
// them: SmolLM2's massive activation (24881 from layer 11's ffn_out at token
// 0, dim 507) is a float16 value with an ulp of 16, and the error it enters
// with stays in the stream while the value falls to 4427 by layer 29.
constexpr Tolerance kHalfStorageVsReference{2.0, 2.0 / 1024, 1e-30,
                                            "float16 storage: 2x the oracle's float16 noise"};

// A float32 kernel reduction (softmax over a vocabulary row) against the
// double reference: each thread sums up to ~150 terms (a 150k vocabulary over
// 1024 threads) and a 10-level tree combines them, so the sum is off by at
// most ~160 float32 roundings, plus a few for exp and the division; 256 ulps
// of the largest value bounds that with margin and still flags a wrong term.
constexpr Tolerance kFloatReductionVsReference{0.0, 256 * 1.1920929e-7, 1e-30,
                                               "float32 reduction: 256 ulps of the largest value"};

// Greedy tokens and their decoded text must match exactly: a token that
// differs changes everything after it.

}  // namespace gp
