// softmax_merge_test.cpp: the online-softmax state arithmetic of
// core/softmax_merge.h (the merge split-K attention decode runs on the GPU):
// chunk states merged in any split equal a one-pass softmax-weighted sum in
// double; empty and fully masked chunks are neutral, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/softmax_merge.h"

namespace gp {
namespace {

constexpr int kDim = 5;  // value width

// A chunk state: (m, l) and its accumulator acc[kDim].
struct Chunk {
  SoftmaxState st;
  float acc[kDim] = {0, 0, 0, 0, 0};
};

// Keys [b, e) pushed one at a time, as a decode block does.
Chunk summarize(const std::vector<float>& s, const std::vector<float>& v, int b, int e) {
  Chunk c;
  for (int j = b; j < e; j++) {
    float p = 0;
    const float sa = softmax_push(&c.st, s[j], &p);
    for (int i = 0; i < kDim; i++) c.acc[i] = c.acc[i] * sa + p * v[j * kDim + i];
  }
  return c;
}

Chunk merge(const Chunk& a, const Chunk& b) {
  Chunk r;
  float sa = 0, sb = 0;
  r.st = softmax_merge(a.st, b.st, &sa, &sb);
  for (int i = 0; i < kDim; i++) r.acc[i] = a.acc[i] * sa + b.acc[i] * sb;
  return r;
}

// softmax(s) . v in double, one pass over the unmasked keys.
std::vector<double> one_pass(const std::vector<float>& s, const std::vector<float>& v) {
  double m = -INFINITY, l = 0;
  for (float x : s) m = std::max(m, (double)x);
  std::vector<double> out(kDim, 0.0);
  for (size_t j = 0; j < s.size(); j++) {
    if (s[j] == -INFINITY) continue;
    const double p = std::exp((double)s[j] - m);
    l += p;
    for (int i = 0; i < kDim; i++) out[i] += p * v[j * kDim + i];
  }
  for (double& o : out) o /= l;
  return out;
}

bool same_bits(const Chunk& a, const Chunk& b) {
  return std::memcmp(&a.st, &b.st, sizeof(a.st)) == 0 && std::memcmp(a.acc, b.acc, sizeof(a.acc)) == 0;
}

::testing::AssertionResult close_to(const Chunk& c, const std::vector<double>& want, double tol) {
  for (int i = 0; i < kDim; i++) {
    const double got = softmax_finalize(c.acc[i], c.st.l);
    if (!(std::fabs(got - want[i]) <= tol))
      return ::testing::AssertionFailure() << "component " << i << ": got " << got << ", want "
                                           << want[i] << " (tolerance " << tol << ")";
  }
  return ::testing::AssertionSuccess();
}

// Random scores (scaled like attention logits, some masked) and values.
void make(std::mt19937_64& g, int n, double masked_fraction, std::vector<float>* s,
          std::vector<float>* v) {
  std::uniform_real_distribution<float> score(-8, 8), val(-1, 1);
  std::uniform_real_distribution<double> u(0, 1);
  s->resize(n);
  v->resize((size_t)n * kDim);
  for (float& x : *s) x = u(g) < masked_fraction ? -INFINITY : score(g);
  for (float& x : *v) x = val(g);
}

// float32 rounding over n terms: a few ulps per key of the largest value (|v| <= 1)
double tolerance(int n) { return 8.0 * n * 1.1920929e-7; }

TEST(SoftmaxMerge, AnySplitEqualsOnePass) {
  std::mt19937_64 g(11);
  for (int trial = 0; trial < 200; trial++) {
    const int n = 1 + (int)(g() % 300);
    std::vector<float> s, v;
    make(g, n, trial % 3 == 0 ? 0.3 : 0.0, &s, &v);
    if (std::all_of(s.begin(), s.end(), [](float x) { return x == -INFINITY; })) s[0] = 0.5f;
    // random split points, empty chunks included (repeated cut points)
    std::vector<int> cuts = {0, n};
    for (int c = (int)(g() % 12); c > 0; c--) cuts.push_back((int)(g() % (n + 1)));
    std::sort(cuts.begin(), cuts.end());
    Chunk seq;
    for (size_t c = 0; c + 1 < cuts.size(); c++) seq = merge(seq, summarize(s, v, cuts[c], cuts[c + 1]));
    const std::vector<double> want = one_pass(s, v);
    EXPECT_TRUE(close_to(seq, want, tolerance(n))) << "trial " << trial << ", n " << n;
    // the same chunks merged as a balanced tree
    std::vector<Chunk> level;
    for (size_t c = 0; c + 1 < cuts.size(); c++) level.push_back(summarize(s, v, cuts[c], cuts[c + 1]));
    while (level.size() > 1) {
      std::vector<Chunk> next;
      for (size_t i = 0; i < level.size(); i += 2)
        next.push_back(i + 1 < level.size() ? merge(level[i], level[i + 1]) : level[i]);
      level = next;
    }
    EXPECT_TRUE(close_to(level[0], want, tolerance(n))) << "tree, trial " << trial;
  }
}

TEST(SoftmaxMerge, EmptyChunkIsNeutralBitForBit) {
  std::mt19937_64 g(5);
  std::vector<float> s, v;
  make(g, 40, 0.0, &s, &v);
  const Chunk a = summarize(s, v, 0, 40);
  const Chunk empty;
  EXPECT_TRUE(same_bits(merge(a, empty), a));
  EXPECT_TRUE(same_bits(merge(empty, a), a));
  const Chunk both = merge(empty, empty);
  EXPECT_EQ(both.st.m, -INFINITY);
  EXPECT_EQ(both.st.l, 0.0f);
  for (float x : both.acc) EXPECT_EQ(x, 0.0f);
}

TEST(SoftmaxMerge, FullyMaskedChunkIsNeutralWithoutNaN) {
  // a chunk outside a sliding window: every score -inf
  std::mt19937_64 g(6);
  std::vector<float> s, v;
  make(g, 64, 0.0, &s, &v);
  for (int j = 0; j < 32; j++) s[j] = -INFINITY;
  const Chunk masked = summarize(s, v, 0, 32);
  EXPECT_EQ(masked.st.m, -INFINITY);
  EXPECT_EQ(masked.st.l, 0.0f);
  for (float x : masked.acc) EXPECT_EQ(x, 0.0f);  // no NaN from -inf - -inf
  const Chunk live = summarize(s, v, 32, 64);
  EXPECT_TRUE(same_bits(merge(masked, live), live));
  EXPECT_TRUE(same_bits(merge(live, masked), live));
  EXPECT_TRUE(close_to(merge(masked, live), one_pass(s, v), tolerance(64)));
}

TEST(SoftmaxMerge, LargeScoresDoNotOverflow) {
  // scores far beyond exp's float range: only differences are exponentiated
  std::vector<float> s = {1000.0f, 999.0f, -1000.0f, 1000.5f};
  std::vector<float> v(s.size() * kDim);
  for (size_t i = 0; i < v.size(); i++) v[i] = (float)((int)i % 7 - 3) / 3.0f;
  const Chunk c = merge(summarize(s, v, 0, 2), summarize(s, v, 2, 4));
  EXPECT_TRUE(close_to(c, one_pass(s, v), tolerance(4)));
}

TEST(SoftmaxMerge, NoVisibleKeyFinalizesToNaN) {
  const Chunk empty;
  EXPECT_TRUE(std::isnan(softmax_finalize(empty.acc[0], empty.st.l)));
}

}  // namespace
}  // namespace gp
