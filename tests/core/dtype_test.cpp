// dtype_test.cpp: names, block geometry, overflow-checked row sizes and exact
// row dequantization of every storage type in core/dtype.h.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/quant.h"

namespace gp {
namespace {

const DType kAll[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1};

TEST(DType, NamesRoundTrip) {
  const char* names[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"};
  for (int k = 0; k < 6; ++k) {
    EXPECT_STREQ(dtype_name(kAll[k]), names[k]);
    DType t;
    ASSERT_TRUE(dtype_from_name(names[k], &t)) << names[k];
    EXPECT_EQ(t, kAll[k]);
  }
  DType t;
  EXPECT_FALSE(dtype_from_name("q4_K", &t));
  EXPECT_FALSE(dtype_from_name("F32", &t));
  EXPECT_FALSE(dtype_from_name("", &t));
}

TEST(DType, BlockGeometry) {
  EXPECT_EQ(dtype_block_elems(DType::F32), 1);
  EXPECT_EQ(dtype_block_bytes(DType::F32), 4);
  EXPECT_EQ(dtype_block_bytes(DType::F16), 2);
  EXPECT_EQ(dtype_block_bytes(DType::BF16), 2);
  EXPECT_EQ(dtype_block_elems(DType::Q8_0), 32);
  EXPECT_EQ(dtype_block_bytes(DType::Q8_0), 34);
  EXPECT_EQ(dtype_block_bytes(DType::Q4_0), 18);
  EXPECT_EQ(dtype_block_bytes(DType::Q4_1), 20);
  EXPECT_FALSE(dtype_is_quantized(DType::F32));
  EXPECT_FALSE(dtype_is_quantized(DType::BF16));
  EXPECT_TRUE(dtype_is_quantized(DType::Q4_1));
}

TEST(DType, RowBytes) {
  EXPECT_EQ(dtype_row_bytes(DType::F32, 576), 2304);
  EXPECT_EQ(dtype_row_bytes(DType::F16, 3), 6);
  EXPECT_EQ(dtype_row_bytes(DType::Q8_0, 576), 18 * 34);
  EXPECT_EQ(dtype_row_bytes(DType::Q4_1, 1536), 48 * 20);
  EXPECT_EQ(dtype_row_bytes(DType::Q4_0, 0), 0);
}

TEST(DType, RowBytesRejectsBadCounts) {
  EXPECT_THROW(dtype_row_bytes(DType::F32, -1), Error);
  EXPECT_THROW(dtype_row_bytes(DType::Q4_0, 33), Error);
  EXPECT_THROW(dtype_row_bytes(DType::Q8_0, 16), Error);
  const int64_t big = std::numeric_limits<int64_t>::max() / 32 * 32;
  EXPECT_THROW(dtype_row_bytes(DType::Q8_0, big), Error);  // 34/32 bytes per value overflows
  EXPECT_THROW(dtype_row_bytes(DType::F32, std::numeric_limits<int64_t>::max()), Error);
  EXPECT_EQ(dtype_row_bytes(DType::F16, std::numeric_limits<int64_t>::max() / 2),
            std::numeric_limits<int64_t>::max() / 2 * 2);
}

TEST(DType, DequantizeScalarTypesExact) {
  const std::vector<float> v = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.9604644775390625e-08f,
                                INFINITY, -INFINITY, 0.333251953125f};
  std::vector<uint16_t> h, b;
  for (float x : v) {
    h.push_back(f32_to_f16(x));
    b.push_back(f32_to_bf16(x));
  }
  std::vector<float> out(v.size());
  dequantize_row(DType::F32, v.data(), out.data(), (int64_t)v.size());
  EXPECT_EQ(0, std::memcmp(out.data(), v.data(), v.size() * 4));
  dequantize_row(DType::F16, h.data(), out.data(), (int64_t)v.size());
  for (size_t k = 0; k < v.size(); ++k) EXPECT_EQ(out[k], v[k]) << "f16 element " << k;  // all exact in f16
  dequantize_row(DType::BF16, b.data(), out.data(), (int64_t)v.size());
  for (size_t k = 0; k < v.size(); ++k) EXPECT_EQ(out[k], bf16_to_f32(b[k])) << "bf16 element " << k;
  EXPECT_EQ(out[2], 1.0f);
  EXPECT_EQ(out[3], -2.5f);
}

// two blocks per format with known scale, min and nibbles; expected values by hand
TEST(DType, DequantizeBlocksExact) {
  std::vector<block_q8_0> q8(2);
  std::vector<block_q4_0> q40(2);
  std::vector<block_q4_1> q41(2);
  for (int b = 0; b < 2; ++b) {
    q8[b].d = f32_to_f16(b ? 0.5f : 0.25f);
    q40[b].d = f32_to_f16(b ? 2.0f : 0.125f);
    q41[b].d = f32_to_f16(b ? 1.5f : 0.5f);
    q41[b].m = f32_to_f16(b ? -3.0f : 1.0f);
    for (int j = 0; j < 32; ++j) q8[b].qs[j] = (int8_t)(j * 8 - 128 + b);
    for (int j = 0; j < 16; ++j) {
      q40[b].qs[j] = (uint8_t)((j & 15) | (((15 - j) & 15) << 4));
      q41[b].qs[j] = (uint8_t)(((j + b) & 15) | ((j / 2) << 4));
    }
  }
  std::vector<float> out(64);
  dequantize_row(DType::Q8_0, q8.data(), out.data(), 64);
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[b * 32 + j], (b ? 0.5f : 0.25f) * (float)(j * 8 - 128 + b));
  dequantize_row(DType::Q4_0, q40.data(), out.data(), 64);
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 32; ++j) {
      int q = j < 16 ? j : 15 - (j - 16);
      EXPECT_EQ(out[b * 32 + j], (b ? 2.0f : 0.125f) * (float)(q - 8)) << b << "," << j;
    }
  dequantize_row(DType::Q4_1, q41.data(), out.data(), 64);
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 32; ++j) {
      int q = j < 16 ? ((j + b) & 15) : (j - 16) / 2;
      EXPECT_EQ(out[b * 32 + j], (b ? 1.5f : 0.5f) * (float)q + (b ? -3.0f : 1.0f)) << b << "," << j;
    }
}

// blocks inside a file are only byte-aligned: decode from an odd address
TEST(DType, DequantizeUnalignedSource) {
  block_q8_0 blk;
  blk.d = f32_to_f16(1.0f);
  for (int j = 0; j < 32; ++j) blk.qs[j] = (int8_t)(j - 16);
  std::vector<uint8_t> buf(sizeof blk + 1);
  std::memcpy(buf.data() + 1, &blk, sizeof blk);
  std::vector<float> out(32);
  dequantize_row(DType::Q8_0, buf.data() + 1, out.data(), 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], (float)(j - 16));
}

TEST(DType, DequantizeRejectsPartialBlock) {
  std::vector<uint8_t> src(64);
  std::vector<float> out(40);
  EXPECT_THROW(dequantize_row(DType::Q4_1, src.data(), out.data(), 40), Error);
}

}  // namespace
}  // namespace gp
