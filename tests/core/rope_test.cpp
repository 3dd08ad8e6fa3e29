// rope_test.cpp: the RoPE frequency table and angles of core/rope.h, shared
// by the reference and the CUDA kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/rope.h"

namespace gp {
namespace {

TEST(Rope, InvFreqIsFloat32PowerOfTheta) {
  for (int64_t hd : {16, 64, 96, 128}) {
    for (double theta : {10000.0, 500000.0}) {
      const std::vector<float> inv = rope_inv_freq(hd, theta);
      ASSERT_EQ((int64_t)inv.size(), hd / 2);
      EXPECT_EQ(inv[0], 1.0f) << "pair 0 does not rotate with theta";
      for (int64_t i = 0; i < hd / 2; i++) {
        // float32 like transformers: the exponent 2i/hd rounded to float32, then
        // pow and 1/x within 2 float32 ulps of exact
        const double e = (double)((float)(2 * i) / (float)hd);
        const double exact = 1.0 / std::pow((double)(float)theta, e);
        EXPECT_NEAR(inv[i], exact, 2 * exact * 1.1920929e-7) << "hd " << hd << " pair " << i;
        // and within 4e-7 relative of the real-valued 1 / theta^(2i/hd)
        const double real = 1.0 / std::pow(theta, (double)(2 * i) / (double)hd);
        EXPECT_NEAR(inv[i], real, 4e-7 * real) << "hd " << hd << " pair " << i;
        if (i > 0) EXPECT_LT(inv[i], inv[i - 1]) << "frequencies decrease";
      }
    }
  }
}

TEST(Rope, InvFreqKnownValues) {
  // theta 10000, hd 64: inv_freq[16] = 10000^-0.5 = 0.01, inv_freq[8] = 10000^-0.25 = 0.1
  const std::vector<float> inv = rope_inv_freq(64, 10000.0);
  EXPECT_FLOAT_EQ(inv[8], 0.1f);
  EXPECT_FLOAT_EQ(inv[16], 0.01f);
  EXPECT_FLOAT_EQ(inv[24], 0.001f);
}

TEST(Rope, AngleIsFloat32ProductOfPositionAndFrequency) {
  const std::vector<float> inv = rope_inv_freq(64, 10000.0);
  for (int64_t pos : {0, 1, 7, 4095, 131071}) {
    for (int64_t i = 0; i < 32; i++) {
      const float want = (float)pos * inv[i];
      const float got = rope_angle(pos, inv[i]);
      EXPECT_EQ(std::memcmp(&got, &want, 4), 0) << "pos " << pos << " pair " << i;
    }
  }
  // float32 rounding of large angles is part of the spec (transformers does the same):
  // 131071 * 1 is exact, 16777217 is not representable in float32
  EXPECT_EQ(rope_angle(131071, 1.0f), 131071.0f);
  EXPECT_EQ(rope_angle(16777217, 1.0f), 16777216.0f);
}

TEST(Rope, RejectsOddOrNonPositiveSizes) {
  EXPECT_THROW(rope_inv_freq(7, 10000.0), Error);
  EXPECT_THROW(rope_inv_freq(0, 10000.0), Error);
  EXPECT_THROW(rope_inv_freq(64, 0.0), Error);
}

}  // namespace
}  // namespace gp
