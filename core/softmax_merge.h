// softmax_merge.h: online-softmax state arithmetic shared by host and device
// (GP_HD). A chunk of keys with scores s_j and values v_j is summarized by
// (m, l, acc): m = max_j s_j, l = sum_j exp(s_j - m), acc = sum_j exp(s_j - m) v_j.
// Two chunk states merge into the state of their union (Milakov & Gimelshein
// 2018, "Online normalizer calculation for softmax"; the split-K merge of
// FlashDecoding), and softmax(s) . v = acc / l at the end. The empty chunk,
// and a chunk whose every key is masked (score -inf), is (-inf, 0, 0): it is
// neutral, and no -inf - -inf ever reaches exp.
#pragma once
#include <math.h>

#include "core/hd.h"

namespace gp {

// The state of an empty (or fully masked) chunk.
struct SoftmaxState {
  float m = -INFINITY;  // running max of the scores
  float l = 0.0f;       // sum of exp(score - m)
};

// exp(x - m) for a score or an older max x against the new max m; 0 when x is
// -inf (a masked key, or an empty state), even when m is -inf too.
GP_HD float softmax_rescale(float x, float m) { return x == -INFINITY ? 0.0f : expf(x - m); }

// Merges (a.m, a.l) with (b.m, b.l): returns the merged state and the factors
// *sa, *sb that every accumulator of a and b must be scaled by:
// acc = acc_a * sa + acc_b * sb.
GP_HD SoftmaxState softmax_merge(SoftmaxState a, SoftmaxState b, float* sa, float* sb) {
  SoftmaxState r;
  r.m = a.m > b.m ? a.m : b.m;
  *sa = softmax_rescale(a.m, r.m);
  *sb = softmax_rescale(b.m, r.m);
  r.l = a.l * *sa + b.l * *sb;
  return r;
}

// Adds one key with score s to state st; returns the factor the accumulators
// must be scaled by before adding *p * v (*p = exp(s - new m), 0 when masked).
GP_HD float softmax_push(SoftmaxState* st, float s, float* p) {
  float sa = 0.0f;
  *st = softmax_merge(*st, SoftmaxState{s, s == -INFINITY ? 0.0f : 1.0f}, &sa, p);
  return sa;
}

// softmax(s) . v from a final state: acc / l. l == 0 (no visible key) gives NaN,
// so a query that saw nothing is visible in the output rather than silently 0.
GP_HD float softmax_finalize(float acc, float l) { return l > 0.0f ? acc / l : NAN; }

}  // namespace gp
