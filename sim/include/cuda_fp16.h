// cuda_fp16.h (simulated device): IEEE binary16 `half` and `half2` with the
// conversions kernels/ uses. float -> half rounds to nearest even, as the
// device's cvt.rn.f16.f32 does, subnormals and overflow to infinity included,
// so conversions give the GPU's bits exactly; half -> float is exact.
#pragma once
#include <cstdint>
#include <cstring>

#include "gpsim/types.h"

namespace gpsim {

namespace detail {
inline uint16_t f32_to_f16_rn(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // NaN stays NaN
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds to >= 65520: infinity
  if (ax < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
    if (ax < 0x33000000u) return (uint16_t)sign;  // below half the smallest subnormal (2^-25): zero
    const int e = (int)(ax >> 23);                // biased f32 exponent, 102..112
    const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const int shift = 126 - e;  // value = m * 2^(e - 150), subnormal unit 2^-24: m >> (126 - e)
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1u))) q++;
    return (uint16_t)(sign | q);
  }
  uint32_t h = ((ax >> 13) - (112u << 10));  // rebias exponent, keep 10 mantissa bits
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
  return (uint16_t)(sign | h);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
  if (e == 0) {
    if (m == 0) {
      x = sign;
    } else {  // subnormal: normalize
      int s = 0;
      while (!(m & 0x400u)) {
        m <<= 1;
        s++;
      }
      x = sign | ((uint32_t)(113 - s) << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (e == 31) {
    x = sign | 0x7f800000u | (m << 13);
  } else {
    x = sign | ((e + 112u) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace detail

struct __half {
  uint16_t x;
  __half() = default;
  __half(float f) : x(detail::f32_to_f16_rn(f)) {}
  operator float() const { return detail::f16_to_f32(x); }
};
struct alignas(4) __half2 {
  __half x, y;
};

}  // namespace gpsim

using __half = gpsim::__half;
using __half2 = gpsim::__half2;
using half = gpsim::__half;
using half2 = gpsim::__half2;

inline float __half2float(__half h) { return gpsim::detail::f16_to_f32(h.x); }
inline __half __float2half(float f) {
  __half h;
  h.x = gpsim::detail::f32_to_f16_rn(f);
  return h;
}
inline __half __float2half_rn(float f) { return __float2half(f); }
inline __half __ushort_as_half(unsigned short u) {
  __half h;
  h.x = u;
  return h;
}
inline unsigned short __half_as_ushort(__half h) { return h.x; }
inline gpsim::float2 __half22float2(__half2 v) { return {__half2float(v.x), __half2float(v.y)}; }
inline __half2 __floats2half2_rn(float a, float b) { return {__float2half(a), __float2half(b)}; }
inline __half2 __halves2half2(__half a, __half b) { return {a, b}; }
inline float __low2float(__half2 v) { return __half2float(v.x); }
inline float __high2float(__half2 v) { return __half2float(v.y); }
