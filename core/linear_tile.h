// linear_tile.h: the arithmetic of the CUDA linear kernels (kernels/linear.cu)
// that the CPU tests can cover. A 32-value weight block is read as four
// slices of 8 consecutive values (one 16-byte f16 vector): as f16 bits for
// the tensor-core tiles (dequantized with core/quant.h, so bit-identical to
// f32_to_f16 of the CPU's values), or as integer codes plus scale and min for
// the GEMV's f32 dot products (d * sum(q x) + m * sum(x), as ggml's vec_dot).
// Also the register layout of mma.sync m16n8k8 and the ldmatrix x4 row
// addresses, from the PTX ISA fragment tables.
#pragma once
#include <cstdint>

#include "core/hd.h"
#include "core/quant.h"

namespace gp {

constexpr int kSlice = 8;                   // values per slice
constexpr int kSlicesPerBlock = kQK / kSlice;  // 4

// ---- slices of a block --------------------------------------------------

// Slice s (0..3) of a block as f16 bits: out[i] = f32_to_f16(value(b, 8s + i)).
GP_HD void slice_f16(const block_q8_0& b, int s, uint16_t out[kSlice]) {
  for (int i = 0; i < kSlice; i++) out[i] = f32_to_f16(q8_0_value(b, kSlice * s + i));
}
GP_HD void slice_f16(const block_q4_0& b, int s, uint16_t out[kSlice]) {
  for (int i = 0; i < kSlice; i++) out[i] = f32_to_f16(q4_0_value(b, kSlice * s + i));
}
GP_HD void slice_f16(const block_q4_1& b, int s, uint16_t out[kSlice]) {
  for (int i = 0; i < kSlice; i++) out[i] = f32_to_f16(q4_1_value(b, kSlice * s + i));
}

// Slice s of a block as codes: value(b, 8s + i) == d * q[i] + m exactly
// (d * q is exact in f32: an 11-bit scale times an 8-bit code).
struct SliceCodes {
  float q[kSlice];
  float d;
  float m;
};

// q4 code of value j: low nibble of qs[j] for j < 16, high nibble of qs[j-16] after
GP_HD int q4_code(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0x0f) : (qs[j - 16] >> 4); }

GP_HD SliceCodes slice_codes(const block_q8_0& b, int s) {
  SliceCodes c;
  for (int i = 0; i < kSlice; i++) c.q[i] = (float)b.qs[kSlice * s + i];
  c.d = f16_to_f32(b.d);
  c.m = 0.0f;
  return c;
}
GP_HD SliceCodes slice_codes(const block_q4_0& b, int s) {
  SliceCodes c;
  for (int i = 0; i < kSlice; i++) c.q[i] = (float)(q4_code(b.qs, kSlice * s + i) - 8);
  c.d = f16_to_f32(b.d);
  c.m = 0.0f;
  return c;
}
GP_HD SliceCodes slice_codes(const block_q4_1& b, int s) {
  SliceCodes c;
  for (int i = 0; i < kSlice; i++) c.q[i] = (float)q4_code(b.qs, kSlice * s + i);
  c.d = f16_to_f32(b.d);
  c.m = f16_to_f32(b.m);
  return c;
}

// sum_i value_i * x[i] in f32, factored as d * sum(q x) + m * sum(x), summed
// in index order.
GP_HD float slice_dot(const SliceCodes& c, const float x[kSlice]) {
  float qx = 0.0f, sx = 0.0f;
  for (int i = 0; i < kSlice; i++) {
    qx += c.q[i] * x[i];
    sx += x[i];
  }
  return c.d * qx + c.m * sx;
}

// ---- mma.sync m16n8k8 (row.col, f16 inputs, f32 accumulators) -----------
// groupID = lane / 4, threadID_in_group = lane % 4 (PTX ISA, "Matrix
// Fragments for mma.m16n8k8").

// Accumulator register r (0..3) of `lane` holds element (row, col) of the 16x8 tile.
GP_HD int mma_c_row(int lane, int r) { return lane / 4 + 8 * (r / 2); }
GP_HD int mma_c_col(int lane, int r) { return 2 * (lane % 4) + (r % 2); }

// ldmatrix.x4 loads four 8x8 b16 matrices; lanes 8q..8q+7 give the row
// addresses of matrix q, and register q of every lane receives
// (row lane/4, cols 2*(lane%4), +1) of matrix q, which is the A, B and C
// fragment layout above.
//
// A: a 16x16 (m x k) tile stored row-major. Matrices: (rows 0-7, k 0-7),
// (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15), so registers
// {0,1} are the A fragment of the k-step 0..7 and {2,3} that of k 8..15.
GP_HD int ldsm_a_row(int lane) { return lane % 8 + 8 * ((lane / 8) % 2); }
GP_HD int ldsm_a_col(int lane) { return 8 * (lane / 16); }
// B: two n8 tiles x k16, stored as (n, k) rows (the weight's own layout,
// which is the "col" B operand). Matrices: (n 0-7, k 0-7), (n 0-7, k 8-15),
// (n 8-15, k 0-7), (n 8-15, k 8-15), so register 2j + h is the B fragment
// of n-tile j and k-step h.
GP_HD int ldsm_b_row(int lane) { return lane % 8 + 8 * (lane / 16); }
GP_HD int ldsm_b_col(int lane) { return 8 * ((lane / 8) % 2); }

}  // namespace gp
