// linear_tile_test.cpp: the host/device arithmetic of the CUDA linear kernels
// (core/linear_tile.h) on the CPU: block slices against the CPU's row
// dequantization, the factored slice dot product, and the mma.sync /
// ldmatrix fragment layouts against the PTX ISA tables.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/linear_tile.h"

namespace gp {
namespace {

// Random blocks of type `t`, including the extreme codes and scales.
std::vector<uint8_t> random_blocks(DType t, int n_blocks, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<uint8_t> raw(dtype_row_bytes(t, (int64_t)n_blocks * kQK));
  for (auto& b : raw) b = (uint8_t)byte(g);
  const int64_t bb = dtype_block_bytes(t);
  for (int i = 0; i < n_blocks; i++) {
    uint8_t* blk = raw.data() + i * bb;
    const uint16_t d = f32_to_f16(i == 0 ? 65504.0f : u(g));  // block 0: the largest scale
    std::memcpy(blk, &d, 2);
    if (t == DType::Q4_1) {
      const uint16_t m = f32_to_f16(8 * u(g));
      std::memcpy(blk + 2, &m, 2);
    }
  }
  return raw;
}

constexpr DType kBlockTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1};

template <class F>
void for_each_slice(DType t, const std::vector<uint8_t>& raw, F f) {
  const int64_t n_blocks = (int64_t)raw.size() / dtype_block_bytes(t);
  for (int64_t b = 0; b < n_blocks; b++)
    for (int s = 0; s < kSlicesPerBlock; s++) {
      const uint8_t* p = raw.data() + b * dtype_block_bytes(t);
      switch (t) {
        case DType::Q8_0: f(b, s, *reinterpret_cast<const block_q8_0*>(p)); break;
        case DType::Q4_0: f(b, s, *reinterpret_cast<const block_q4_0*>(p)); break;
        case DType::Q4_1: f(b, s, *reinterpret_cast<const block_q4_1*>(p)); break;
        default: FAIL() << dtype_name(t);
      }
    }
}

TEST(LinearTile, SliceF16IsTheRoundedRowDequantization) {
  for (DType t : kBlockTypes) {
    const int n_blocks = 64;
    const auto raw = random_blocks(t, n_blocks, 1);
    std::vector<float> want(n_blocks * kQK);
    dequantize_row(t, raw.data(), want.data(), (int64_t)want.size());
    for_each_slice(t, raw, [&](int64_t b, int s, const auto& blk) {
      uint16_t h[kSlice];
      slice_f16(blk, s, h);
      for (int i = 0; i < kSlice; i++) {
        const int64_t k = b * kQK + s * kSlice + i;
        ASSERT_EQ(h[i], f32_to_f16(want[k])) << dtype_name(t) << " value " << k;
      }
    });
  }
}

TEST(LinearTile, SliceCodesRebuildEveryValueExactly) {
  for (DType t : kBlockTypes) {
    const int n_blocks = 64;
    const auto raw = random_blocks(t, n_blocks, 2);
    std::vector<float> want(n_blocks * kQK);
    dequantize_row(t, raw.data(), want.data(), (int64_t)want.size());
    for_each_slice(t, raw, [&](int64_t b, int s, const auto& blk) {
      const SliceCodes c = slice_codes(blk, s);
      for (int i = 0; i < kSlice; i++) {
        const int64_t k = b * kQK + s * kSlice + i;
        ASSERT_EQ(c.q[i], std::nearbyint(c.q[i])) << "codes are integers";
        ASSERT_EQ(c.d * c.q[i] + c.m, want[k]) << dtype_name(t) << " value " << k;
      }
    });
  }
}

TEST(LinearTile, SliceDotMatchesADoubleDot) {
  std::mt19937_64 g(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (DType t : kBlockTypes) {
    const int n_blocks = 64;
    const auto raw = random_blocks(t, n_blocks, 4);
    std::vector<float> w(n_blocks * kQK);
    dequantize_row(t, raw.data(), w.data(), (int64_t)w.size());
    for_each_slice(t, raw, [&](int64_t b, int s, const auto& blk) {
      float x[kSlice];
      for (float& v : x) v = u(g);
      double want = 0, mag = 0;
      for (int i = 0; i < kSlice; i++) {
        const double p = (double)w[b * kQK + s * kSlice + i] * x[i];
        want += p;
        mag += std::fabs(p);
      }
      // d * sum(q x) + m * sum(x): about 2 * 8 roundings of 2^-24 each, relative to the
      // magnitudes involved (|d q x| and |m x| are each at most `mag` plus |m| sum|x|).
      const SliceCodes c = slice_codes(blk, s);
      double sx = 0;
      for (float v : x) sx += std::fabs(v);
      const double bound = 32 * 5.960464477539063e-08 * (mag + 2 * std::fabs(c.m) * sx) + 1e-30;
      EXPECT_NEAR(slice_dot(c, x), want, bound) << dtype_name(t) << " block " << b << " slice " << s;
    });
  }
}

// The PTX ISA fragment tables for mma.m16n8k8 with .f16 inputs and .f32
// accumulators, written out independently of core/linear_tile.h:
// A (16x8, row): a0 = A[g][2c], A[g][2c+1]; a1 = A[g+8][2c], A[g+8][2c+1]
// B (8x8, col):  b0 = B[2c][g], B[2c+1][g]
// C (16x8):      c0, c1 = C[g][2c], C[g][2c+1]; c2, c3 = C[g+8][2c], C[g+8][2c+1]
// with g = lane >> 2, c = lane & 3. ldmatrix: register q of lane L holds
// row L >> 2, elements 2(L & 3) and +1 of matrix q, whose row r is read from
// the address lane 8q + r gives.

struct Pair {
  float lo, hi;
};

// Emulates ldmatrix.x4 over a row-major tile `src` (rows, ld) where lane L
// gives the address (row_of(L), col_of(L)).
template <class RowOf, class ColOf>
void ldmatrix_x4(const std::vector<float>& src, int ld, RowOf row_of, ColOf col_of,
                 Pair out[32][4]) {
  for (int lane = 0; lane < 32; lane++)
    for (int q = 0; q < 4; q++) {
      const int addr_lane = 8 * q + (lane >> 2);
      const int r = row_of(addr_lane), c0 = col_of(addr_lane) + 2 * (lane & 3);
      out[lane][q] = {src[r * ld + c0], src[r * ld + c0 + 1]};
    }
}

TEST(LinearTile, LdmatrixAddressesGiveTheMmaAFragments) {
  // A tile 16 (m) x 16 (k), row-major, distinct values
  std::vector<float> a(16 * 16);
  for (int i = 0; i < 256; i++) a[i] = (float)i;
  Pair regs[32][4];
  ldmatrix_x4(a, 16, ldsm_a_row, ldsm_a_col, regs);
  for (int lane = 0; lane < 32; lane++) {
    const int g = lane >> 2, c = lane & 3;
    for (int h = 0; h < 2; h++) {  // k-step 8h .. 8h + 7
      const Pair a0 = regs[lane][2 * h], a1 = regs[lane][2 * h + 1];
      EXPECT_EQ(a0.lo, a[g * 16 + 8 * h + 2 * c]) << lane;
      EXPECT_EQ(a0.hi, a[g * 16 + 8 * h + 2 * c + 1]) << lane;
      EXPECT_EQ(a1.lo, a[(g + 8) * 16 + 8 * h + 2 * c]) << lane;
      EXPECT_EQ(a1.hi, a[(g + 8) * 16 + 8 * h + 2 * c + 1]) << lane;
    }
  }
}

TEST(LinearTile, LdmatrixAddressesGiveTheMmaBFragments) {
  // weight tile stored (n, k): 16 (n) x 16 (k), row-major; B[k][n] = w[n][k]
  std::vector<float> w(16 * 16);
  for (int i = 0; i < 256; i++) w[i] = (float)(1000 + i);
  Pair regs[32][4];
  ldmatrix_x4(w, 16, ldsm_b_row, ldsm_b_col, regs);
  for (int lane = 0; lane < 32; lane++) {
    const int g = lane >> 2, c = lane & 3;
    for (int j = 0; j < 2; j++)      // n-tile
      for (int h = 0; h < 2; h++) {  // k-step
        const Pair b0 = regs[lane][2 * j + h];
        const int n = 8 * j + g, k = 8 * h + 2 * c;
        EXPECT_EQ(b0.lo, w[n * 16 + k]) << lane;
        EXPECT_EQ(b0.hi, w[n * 16 + k + 1]) << lane;
      }
  }
}

TEST(LinearTile, AccumulatorLayoutCoversTheTileOnce) {
  int seen[16][8] = {};
  for (int lane = 0; lane < 32; lane++)
    for (int r = 0; r < 4; r++) {
      const int row = mma_c_row(lane, r), col = mma_c_col(lane, r);
      ASSERT_TRUE(row >= 0 && row < 16 && col >= 0 && col < 8) << lane << " " << r;
      seen[row][col]++;
      EXPECT_EQ(row, (lane >> 2) + (r >= 2 ? 8 : 0));
      EXPECT_EQ(col, 2 * (lane & 3) + (r & 1));
    }
  for (auto& row : seen)
    for (int n : row) EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace gp
