// ptx.h: the inline-PTX instructions of kernels/, one device function each.
// On a GPU each is its asm statement; on the simulated device (GOLDPATH_SIM)
// the same function calls the emulation in sim/src/ptx.cpp, which follows the
// PTX ISA's fragment layouts (section 9.7.13; the subsections are cited there).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#if defined(GOLDPATH_SIM)
#include "gpsim/ptx.h"
#endif

namespace gp::ptx {

__device__ inline uint32_t smem_addr(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }

// ldmatrix.sync.aligned.m8n8.x4.shared.b16: four 8x8 b16 matrices; lanes 8i..8i+7
// give the row addresses of matrix i (PTX ISA 9.7.13.4.15)
__device__ inline void ldmatrix_x4(uint32_t r[4], const void* p) {
#if defined(GOLDPATH_SIM)
  ::gpsim::ptx::ldmatrix(r, 4, false, smem_addr(p));
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
#endif
}

// c += a (16x8, two f16x2 registers) * b (8x8, one f16x2 register), f32
// accumulators (PTX ISA 9.7.13.4.7)
__device__ inline void mma_m16n8k8(float c[4], uint32_t a0, uint32_t a1, uint32_t b) {
#if defined(GOLDPATH_SIM)
  const uint32_t a[2] = {a0, a1};
  ::gpsim::ptx::mma_m16n8k8_f32_f16_f16_f32(c, a, b, c);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(b));
#endif
}

}  // namespace gp::ptx
