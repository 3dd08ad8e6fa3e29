// ops_test.cpp: reference ops on cases whose answer is known exactly (small
// integers, identities), and every registered op runs on its odd shapes.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/ops.h"
#include "core/quant.h"
#include "reference/ops.h"
#include "reference/registry.h"

namespace gp {
namespace {

TEST(ReferenceOps, EveryRegisteredOpHasAReference) {
  for (const auto& op : op_registry())
    EXPECT_TRUE(ref::reference_ops().count(op.name)) << op.name << " has no reference";
}

TEST(ReferenceOps, EveryOpRunsOnItsOddShapesAndGivesFiniteOutput) {
  for (const auto& op : op_registry())
    for (const auto& sh : op.shapes) {
      if (sh.label.rfind("odd/", 0) != 0) continue;
      OpArgs a;
      op.make_inputs(sh, 42, a);
      ref::reference_ops().at(op.name)(a);
      const HostTensor& o = a.out();
      ASSERT_GT(o.numel(), 0) << op.name << " " << sh.label;
      ASSERT_EQ((int64_t)o.f.size(), o.numel());
      double mag = 0;
      for (float v : o.f) {
        ASSERT_TRUE(std::isfinite(v)) << op.name << " " << sh.label;
        mag += std::fabs(v);
      }
      EXPECT_GT(mag, 0) << op.name << " " << sh.label << " gave all zeros";
      EXPECT_GE(op.bytes(sh), 0);
      EXPECT_GE(op.flops(sh), 0);
    }
}

TEST(ReferenceOps, LinearIsExactOnSmallIntegers) {
  // x (2, 32) and w (3, 32) of small integers: every product and sum is exact in float
  std::vector<float> x(64), w(96);
  for (int i = 0; i < 64; i++) x[i] = (float)(i % 7 - 3);
  for (int i = 0; i < 96; i++) w[i] = (float)(i % 5 - 2);
  std::vector<float> out(6);
  ref::linear(out.data(), x.data(), DType::F32, reinterpret_cast<const uint8_t*>(w.data()), 2, 32, 3);
  for (int t = 0; t < 2; t++)
    for (int n = 0; n < 3; n++) {
      double want = 0;
      for (int k = 0; k < 32; k++) want += x[t * 32 + k] * w[n * 32 + k];
      EXPECT_EQ(out[t * 3 + n], (float)want);
    }
}

TEST(ReferenceOps, LinearQ4_0DequantizesBlocks) {
  block_q4_0 b{};
  b.d = f32_to_f16(1.0f);
  for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(9 | (7 << 4));  // +1 then -1
  std::vector<float> x(32, 1.0f);
  float out = 0;
  ref::linear(&out, x.data(), DType::Q4_0, reinterpret_cast<const uint8_t*>(&b), 1, 32, 1);
  EXPECT_EQ(out, 0.0f);
  x.assign(32, 0.0f);
  x[0] = 2;
  x[16] = 3;
  ref::linear(&out, x.data(), DType::Q4_0, reinterpret_cast<const uint8_t*>(&b), 1, 32, 1);
  EXPECT_EQ(out, 2.0f * 1 + 3.0f * -1);
}

TEST(ReferenceOps, RmsnormOfConstantRowIsWeight) {
  std::vector<float> x(8, 3.0f), w = {1, 2, 3, 4, 5, 6, 7, 8}, out(8);
  ref::rmsnorm(out.data(), x.data(), w.data(), 1, 8, 0.0);
  for (int i = 0; i < 8; i++) EXPECT_FLOAT_EQ(out[i], w[i]);
}

TEST(ReferenceOps, RopeAtPositionZeroIsIdentityAndKeepsNorm) {
  std::vector<float> x(2 * 16), out(2 * 16);
  for (int i = 0; i < 32; i++) x[i] = (float)(i - 10) * 0.25f;
  int32_t pos[2] = {0, 37};
  ref::rope(out.data(), x.data(), pos, 2, 1, 16, 10000.0);
  for (int i = 0; i < 16; i++) EXPECT_EQ(out[i], x[i]);
  double n0 = 0, n1 = 0;
  for (int i = 16; i < 32; i++) n0 += x[i] * x[i], n1 += out[i] * out[i];
  EXPECT_NEAR(n0, n1, 1e-4 * n0);
}

TEST(ReferenceOps, AttentionSeesOnlyThePastAndTheWindow) {
  // one head, hd 8; v rows are one-hot by position so the output shows the weights
  const int S = 6, hd = 8;
  std::vector<float> q(S * hd, 0.0f), k(S * hd, 0.0f), v(S * hd, 0.0f), out(S * hd);
  for (int j = 0; j < S; j++) v[j * hd + j] = 1.0f;  // equal scores: uniform over visible keys
  ref::attention(out.data(), q.data(), k.data(), v.data(), S, S, 1, 1, hd, 0, 0);
  for (int t = 0; t < S; t++)
    for (int j = 0; j < S; j++) EXPECT_NEAR(out[t * hd + j], j <= t ? 1.0 / (t + 1) : 0.0, 1e-7);
  ref::attention(out.data(), q.data(), k.data(), v.data(), S, S, 1, 1, hd, 0, 3);
  for (int t = 0; t < S; t++)
    for (int j = 0; j < S; j++) {
      const bool seen = j <= t && t - j < 3;
      EXPECT_NEAR(out[t * hd + j], seen ? 1.0 / std::min(t + 1, 3) : 0.0, 1e-7) << t << "," << j;
    }
}

TEST(ReferenceOps, AttentionGroupsQueryHeadsOverKvHeads) {
  // 4 query heads over 2 kv heads: heads 0,1 read kv 0 and heads 2,3 read kv 1
  const int hd = 8;
  std::vector<float> q(4 * hd, 0.0f), k(2 * hd, 0.0f), v(2 * hd), out(4 * hd);
  for (int i = 0; i < 2 * hd; i++) v[i] = (float)(i / hd + 1);
  ref::attention(out.data(), q.data(), k.data(), v.data(), 1, 1, 4, 2, hd, 0, 0);
  for (int h = 0; h < 4; h++) EXPECT_EQ(out[h * hd], (float)(h / 2 + 1));
}

TEST(ReferenceOps, BadOperandsAreErrorsNotCrashes) {
  std::vector<float> x(4), out(4);
  int32_t bad_id = 9;
  EXPECT_THROW(ref::embedding(out.data(), DType::F32, reinterpret_cast<const uint8_t*>(x.data()), &bad_id, 1, 1, 4),
               Error);
  EXPECT_THROW(ref::attention(out.data(), x.data(), x.data(), x.data(), 2, 1, 1, 1, 2, 0, 0), Error);
  OpArgs a;
  EXPECT_THROW(ref::reference_ops().at("rmsnorm")(a), Error);
}

}  // namespace
}  // namespace gp
