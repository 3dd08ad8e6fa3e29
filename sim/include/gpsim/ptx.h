// gpsim/ptx.h: the inline-PTX instructions kernels/ uses, emulated on the
// simulated device as warp-collective operations (every lane of the warp
// takes part, as .sync.aligned requires). Fragment layouts follow the PTX ISA
// (PTX ISA 8.x, section 9.7.13 "Warp-level matrix multiply-accumulate
// instructions"); sim/src/ptx.cpp cites the subsection of each.
#pragma once
#include <cstdint>

namespace gpsim::ptx {

// ldmatrix.sync.aligned.m8n8.x{1,2,4}{,.trans}.shared.b16: lanes 8i..8i+7 give
// the shared addresses of the 8 rows (16 bytes each) of matrix i; r[i] of
// lane l receives row l/4, columns 2(l%4) and 2(l%4)+1 of matrix i (low half
// first), or with .trans column l/4, rows 2(l%4) and 2(l%4)+1.
void ldmatrix(uint32_t* r, int num, bool trans, uint32_t smem_addr, const char* file = __builtin_FILE(),
              int line = __builtin_LINE());

// mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32: d = a (16x8 f16, row) *
// b (8x8 f16, col) + c (16x8 f32), with the fragments of PTX ISA 9.7.13.4.7.
void mma_m16n8k8_f32_f16_f16_f32(float d[4], const uint32_t a[2], uint32_t b, const float c[4],
                                 const char* file = __builtin_FILE(), int line = __builtin_LINE());

}  // namespace gpsim::ptx
