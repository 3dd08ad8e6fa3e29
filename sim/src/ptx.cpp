// ptx.cpp: emulation of the inline-PTX warp instructions of gpsim/ptx.h.
// Each lane posts its operands as a warp collective; when all 32 lanes have
// arrived, the resolver assembles the whole matrices from the per-lane
// fragments exactly as the PTX ISA lays them out, computes, and hands each
// lane its fragment of the result. A kernel that indexes fragments wrongly
// therefore gets the wrong numbers here, as it would on a GPU.
#include "gpsim/ptx.h"

#include <cstring>

#include "cuda_fp16.h"
#include "cuda_runtime.h"

namespace gpsim::ptx {
namespace {

constexpr unsigned kAll = 0xffffffffu;

uint16_t lo16(uint32_t v) { return (uint16_t)(v & 0xffffu); }
uint16_t hi16(uint32_t v) { return (uint16_t)(v >> 16); }
uint32_t pack(uint16_t lo, uint16_t hi) { return (uint32_t)lo | ((uint32_t)hi << 16); }
// every f16 value as f32, once (the mma resolver converts 320 values per call)
const float* const kHalfToFloat = [] {
  static float t[65536];
  for (uint32_t i = 0; i < 65536; i++) t[i] = gpsim::detail::f16_to_f32((uint16_t)i);
  return t;
}();
float h2f(uint16_t h) { return kHalfToFloat[h]; }

// PTX ISA 9.7.13.4.15 (ldmatrix): thread l of the warp holds, for matrix i,
// the elements (row l/4, cols 2*(l%4) + {0,1}); lanes 8i..8i+7 supply the row
// addresses of matrix i. With .trans, the matrix is transposed on the way.
void ldmatrix_resolve(detail::WarpOp* const* lanes, unsigned) {
  const int num = lanes[0]->a;
  const bool trans = lanes[0]->b != 0;
  for (int l = 1; l < 32; l++)
    if (lanes[l]->a != num || (lanes[l]->b != 0) != trans) {
      detail::resolve_fault(l, "ldmatrix: lanes of the warp disagree on .num or .trans");
      return;
    }
  uint16_t tile[4][8][8];
  for (int i = 0; i < num; i++)
    for (int r = 0; r < 8; r++) {
      const uint32_t addr = *static_cast<const uint32_t*>(lanes[8 * i + r]->in);
      if (addr % 16) {
        detail::resolve_fault(8 * i + r, "ldmatrix: row address is not 16-byte aligned");
        return;
      }
      const void* row = detail::shared_pointer(addr, 16, "ldmatrix");
      if (!row) return;
      std::memcpy(tile[i][r], row, 16);
    }
  for (int l = 0; l < 32; l++) {
    uint32_t* out = static_cast<uint32_t*>(lanes[l]->out);
    const int r = l / 4, c = 2 * (l % 4);
    for (int i = 0; i < num; i++)
      out[i] = trans ? pack(tile[i][c][r], tile[i][c + 1][r]) : pack(tile[i][r][c], tile[i][r][c + 1]);
  }
}

struct MmaIn {
  uint32_t a[2], b;
  float c[4];
};

// PTX ISA 9.7.13.4.7 (mma.m16n8k8, .f16 A/B, .f32 C/D): groupID = lane / 4,
// threadID_in_group = lane % 4.
//   A (16x8): a0 = {A[g][2t], A[g][2t+1]}, a1 = {A[g+8][2t], A[g+8][2t+1]} (low half first)
//   B (8x8, k x n): b = {B[2t][g], B[2t+1][g]}
//   C, D (16x8): c0, c1 = C[g][2t], C[g][2t+1]; c2, c3 = C[g+8][2t], C[g+8][2t+1]
// The 8 products of f16 values are exact in f32; their sum with c is taken in
// double and rounded once to f32. Tensor cores add with their own internal
// precision, so the last bit can differ from a GPU's (core/tolerance.h covers it).
void mma_resolve(detail::WarpOp* const* lanes, unsigned) {
  float A[16][8], B[8][8], C[16][8];
  for (int l = 0; l < 32; l++) {
    const MmaIn& in = *static_cast<const MmaIn*>(lanes[l]->in);
    const int g = l / 4, t = l % 4;
    A[g][2 * t] = h2f(lo16(in.a[0]));
    A[g][2 * t + 1] = h2f(hi16(in.a[0]));
    A[g + 8][2 * t] = h2f(lo16(in.a[1]));
    A[g + 8][2 * t + 1] = h2f(hi16(in.a[1]));
    B[2 * t][g] = h2f(lo16(in.b));
    B[2 * t + 1][g] = h2f(hi16(in.b));
    C[g][2 * t] = in.c[0];
    C[g][2 * t + 1] = in.c[1];
    C[g + 8][2 * t] = in.c[2];
    C[g + 8][2 * t + 1] = in.c[3];
  }
  float D[16][8];
  for (int m = 0; m < 16; m++)
    for (int n = 0; n < 8; n++) {
      double s = C[m][n];
      for (int k = 0; k < 8; k++) s += (double)A[m][k] * (double)B[k][n];
      D[m][n] = (float)s;
    }
  for (int l = 0; l < 32; l++) {
    float* d = static_cast<float*>(lanes[l]->out);
    const int g = l / 4, t = l % 4;
    d[0] = D[g][2 * t];
    d[1] = D[g][2 * t + 1];
    d[2] = D[g + 8][2 * t];
    d[3] = D[g + 8][2 * t + 1];
  }
}

}  // namespace

void ldmatrix(uint32_t* r, int num, bool trans, uint32_t smem_addr, const char* file, int line) {
  if (num != 1 && num != 2 && num != 4) detail::kernel_fault("ldmatrix: .num must be x1, x2 or x4");
  detail::WarpOp op{trans ? "ldmatrix.trans" : "ldmatrix", file, line, kAll, &ldmatrix_resolve, &smem_addr, r,
                    num, trans ? 1 : 0};
  detail::warp_collective(op);
}

void mma_m16n8k8_f32_f16_f16_f32(float d[4], const uint32_t a[2], uint32_t b, const float c[4], const char* file,
                                 int line) {
  const MmaIn in{{a[0], a[1]}, b, {c[0], c[1], c[2], c[3]}};
  float out[4];
  detail::WarpOp op{"mma.m16n8k8", file, line, kAll, &mma_resolve, &in, out, 0, 0};
  detail::warp_collective(op);
  std::memcpy(d, out, sizeof out);
}

}  // namespace gpsim::ptx
