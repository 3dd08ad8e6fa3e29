// dtype.cpp: names, block geometry and row dequantization for the storage
// types in dtype.h. Block decoding is quant.h's GP_HD code, so the CPU path
// and the CUDA kernels decode a block bit-for-bit the same way.
#include "core/dtype.h"

#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/quant.h"

namespace gp {

namespace {

struct DTypeInfo {
  DType t;
  const char* name;
  int64_t block_elems;
  int64_t block_bytes;
};

constexpr DTypeInfo kInfo[] = {
    {DType::F32, "f32", 1, 4},
    {DType::F16, "f16", 1, 2},
    {DType::BF16, "bf16", 1, 2},
    {DType::Q8_0, "q8_0", kQK, (int64_t)sizeof(block_q8_0)},
    {DType::Q4_0, "q4_0", kQK, (int64_t)sizeof(block_q4_0)},
    {DType::Q4_1, "q4_1", kQK, (int64_t)sizeof(block_q4_1)},
};

const DTypeInfo& info(DType t) {
  for (const auto& i : kInfo)
    if (i.t == t) return i;
  fail("unknown dtype id ", (int)t);
}

// one block at a time through a local copy: blocks in a file need not be
// aligned for their 16-bit fields
template <class Block, class Fn>
void dequantize_blocks(const void* src, float* dst, int64_t n, Fn value) {
  const uint8_t* p = static_cast<const uint8_t*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    Block blk;
    std::memcpy(&blk, p + b * (int64_t)sizeof(Block), sizeof(Block));
    for (int j = 0; j < kQK; ++j) dst[b * kQK + j] = value(blk, j);
  }
}

}  // namespace

const char* dtype_name(DType t) { return info(t).name; }

bool dtype_from_name(const std::string& s, DType* out) {
  for (const auto& i : kInfo) {
    if (s == i.name) {
      *out = i.t;
      return true;
    }
  }
  return false;
}

int64_t dtype_block_elems(DType t) { return info(t).block_elems; }
int64_t dtype_block_bytes(DType t) { return info(t).block_bytes; }
bool dtype_is_quantized(DType t) { return info(t).block_elems > 1; }

int64_t dtype_row_bytes(DType t, int64_t n) {
  const DTypeInfo& i = info(t);
  GP_CHECK(n >= 0, "negative element count ", n, " for ", i.name);
  GP_CHECK(n % i.block_elems == 0, i.name, " row of ", n, " values is not a multiple of the block size ",
           i.block_elems);
  int64_t blocks = n / i.block_elems;
  GP_CHECK(blocks <= std::numeric_limits<int64_t>::max() / i.block_bytes, i.name, " row of ", n,
           " values overflows a 64-bit byte count");
  return blocks * i.block_bytes;
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  dtype_row_bytes(t, n);  // checks n against the block size
  const uint8_t* p = static_cast<const uint8_t*>(src);
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, (size_t)n * 4);
      return;
    case DType::F16:
      for (int64_t k = 0; k < n; ++k) {
        uint16_t h;
        std::memcpy(&h, p + 2 * k, 2);
        dst[k] = f16_to_f32(h);
      }
      return;
    case DType::BF16:
      for (int64_t k = 0; k < n; ++k) {
        uint16_t h;
        std::memcpy(&h, p + 2 * k, 2);
        dst[k] = bf16_to_f32(h);
      }
      return;
    case DType::Q8_0:
      dequantize_blocks<block_q8_0>(src, dst, n, [](const block_q8_0& b, int j) { return q8_0_value(b, j); });
      return;
    case DType::Q4_0:
      dequantize_blocks<block_q4_0>(src, dst, n, [](const block_q4_0& b, int j) { return q4_0_value(b, j); });
      return;
    case DType::Q4_1:
      dequantize_blocks<block_q4_1>(src, dst, n, [](const block_q4_1& b, int j) { return q4_1_value(b, j); });
      return;
  }
  fail("dequantize_row: unknown dtype id ", (int)t);
}

}  // namespace gp
