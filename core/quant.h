// quant.h: scalar formats and GGUF block layouts (q8_0, q4_0, q4_1), with
// exact dequantization shared by host and device (GP_HD). Layouts follow
// ggml's block_q8_0 / block_q4_0 / block_q4_1: 32 values per block, an f16
// scale d (and min m for q4_1); q4 packs value j in the low nibble of qs[j]
// for j < 16 and value j+16 in the high nibble.
#pragma once
#include <cstdint>
#include <cstring>

#include "core/hd.h"

namespace gp {

constexpr int kQK = 32;  // values per quantized block

struct block_q8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[kQK];
};
struct block_q4_0 {
  uint16_t d;  // f16 scale
  uint8_t qs[kQK / 2];
};
struct block_q4_1 {
  uint16_t d;  // f16 scale
  uint16_t m;  // f16 min
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(block_q8_0) == 34, "q8_0 block is 34 bytes");
static_assert(sizeof(block_q4_0) == 18, "q4_0 block is 18 bytes");
static_assert(sizeof(block_q4_1) == 20, "q4_1 block is 20 bytes");

GP_HD float bits_to_f32(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}
GP_HD uint32_t f32_to_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

// IEEE half -> float, exact for every input (subnormals, inf, nan).
GP_HD float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | (man << 13));
  if (exp == 0) {
    // subnormal (or zero): man * 2^-24, exact in float
    float v = (float)man * 5.9604644775390625e-08f;
    return (h & 0x8000u) ? -v : v;
  }
  return bits_to_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

// float -> IEEE half, round to nearest even, overflow to inf.
GP_HD uint16_t f32_to_f16(float f) {
  uint32_t x = f32_to_bits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (ax < 0x38800000u) {  // result is subnormal or zero
    if (ax < 0x33000000u) return (uint16_t)sign;  // < 2^-25 rounds to 0
    uint32_t e = ax >> 23;
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e;  // 14 + (113 - e) ... value = m * 2^(e-150), unit 2^-24
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
  }
  uint32_t e = (ax >> 23) - 112u;
  uint32_t m = ax & 0x7fffffu;
  uint32_t q = (e << 10) | (m >> 13);
  uint32_t rem = m & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) q++;
  return (uint16_t)(sign | q);
}

GP_HD float bf16_to_f32(uint16_t b) { return bits_to_f32((uint32_t)b << 16); }

// float -> bf16, round to nearest even (nan stays nan).
GP_HD uint16_t f32_to_bf16(float f) {
  uint32_t x = f32_to_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  uint32_t lsb = (x >> 16) & 1u;
  return (uint16_t)((x + 0x7fffu + lsb) >> 16);
}

// Value j (0..31) of one block.
GP_HD float q8_0_value(const block_q8_0& b, int j) { return f16_to_f32(b.d) * (float)b.qs[j]; }
GP_HD float q4_0_value(const block_q4_0& b, int j) {
  int q = j < 16 ? (b.qs[j] & 0x0f) : (b.qs[j - 16] >> 4);
  return f16_to_f32(b.d) * (float)(q - 8);
}
GP_HD float q4_1_value(const block_q4_1& b, int j) {
  int q = j < 16 ? (b.qs[j] & 0x0f) : (b.qs[j - 16] >> 4);
  return f16_to_f32(b.d) * (float)q + f16_to_f32(b.m);
}

}  // namespace gp
