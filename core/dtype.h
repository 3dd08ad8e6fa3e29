// dtype.h: the storage types goldpath reads (f32, f16, bf16 and the GGUF
// block formats q8_0, q4_0, q4_1) and row dequantization to float32.
#pragma once
#include <cstdint>
#include <string>

namespace gp {

enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0, Q4_1 };

const char* dtype_name(DType t);            // "f32", "q4_1", ...
bool dtype_from_name(const std::string& s, DType* out);
int64_t dtype_block_elems(DType t);          // 1 for scalar types, 32 for blocks
int64_t dtype_block_bytes(DType t);          // bytes of one block (or element)
bool dtype_is_quantized(DType t);
// Bytes of n consecutive values; throws gp::Error if n is negative, not a
// multiple of the block size, or the byte count overflows.
int64_t dtype_row_bytes(DType t, int64_t n);
// src: n values stored as t -> dst: (n) float32. n must be a multiple of the block size.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

}  // namespace gp
