// quant_math_test.cpp: the host/device scalar conversions of core/quant.h,
// against the compiler's own _Float16 and exhaustively over all 65536 halves.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/quant.h"

namespace gp {
namespace {

TEST(QuantMath, F16RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 65536; h++) {
    const float f = f16_to_f32((uint16_t)h);
    if (std::isnan(f)) {
      EXPECT_TRUE(((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff)) << h;
      continue;
    }
    EXPECT_EQ(f32_to_f16(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(QuantMath, F16MatchesCompilerConversion) {
#ifndef __FLT16_MAX__  // GCC 12 has _Float16 on x86-64; clang 14 (the fuzz/sanitize build) does not
  GTEST_SKIP() << "this compiler has no _Float16 to compare with (the GCC build runs this test)";
#else
  std::mt19937 g(1);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 2000000; i++) {
    uint32_t u = bits(g);
    float f = bits_to_f32(u);
    if (std::isnan(f)) continue;
    _Float16 h = (_Float16)f;
    uint16_t hb;
    std::memcpy(&hb, &h, 2);
    ASSERT_EQ(f32_to_f16(f), hb) << "float bits 0x" << std::hex << u;
  }
  for (uint32_t h = 0; h < 65536; h++) {
    _Float16 x;
    uint16_t hb = (uint16_t)h;
    std::memcpy(&x, &hb, 2);
    const float want = (float)x;
    if (std::isnan(want)) continue;
    ASSERT_EQ(f16_to_f32(hb), want) << h;
  }
#endif
}

TEST(QuantMath, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f808001u)), 0x3f81);
  for (uint32_t b = 0; b < 65536; b++) {
    const float f = bf16_to_f32((uint16_t)b);
    if (!std::isnan(f)) EXPECT_EQ(f32_to_bf16(f), b);
  }
}

TEST(QuantMath, BlockValuesFollowGgmlLayout) {
  block_q4_0 b0{};
  b0.d = f32_to_f16(0.5f);
  for (int j = 0; j < 16; j++) b0.qs[j] = (uint8_t)((j & 0xf) | ((15 - j) << 4));
  for (int j = 0; j < 16; j++) {
    EXPECT_EQ(q4_0_value(b0, j), 0.5f * (j - 8));
    EXPECT_EQ(q4_0_value(b0, j + 16), 0.5f * ((15 - j) - 8));
  }
  block_q4_1 b1{};
  b1.d = f32_to_f16(0.25f);
  b1.m = f32_to_f16(-1.0f);
  for (int j = 0; j < 16; j++) b1.qs[j] = (uint8_t)(j | (j << 4));
  for (int j = 0; j < 16; j++) EXPECT_EQ(q4_1_value(b1, j + 16), 0.25f * j - 1.0f);
  block_q8_0 b8{};
  b8.d = f32_to_f16(2.0f);
  for (int j = 0; j < 32; j++) b8.qs[j] = (int8_t)(j * 8 - 128);
  for (int j = 0; j < 32; j++) EXPECT_EQ(q8_0_value(b8, j), 2.0f * (j * 8 - 128));
}

}  // namespace
}  // namespace gp
