// dequantize.h: expand stored weights (f32, f16, bf16, q8_0, q4_0, q4_1) to
// float32 on the GPU, with the same GP_HD block functions as the CPU
// (core/quant.h), so both give bit-identical values.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace gp::cuda {

// src: n values stored as t (device memory) -> out: (n) float32 (device memory).
// n must be a multiple of t's block size. Launch errors throw gp::Error.
void dequantize(float* out, DType t, const uint8_t* src, int64_t n, cudaStream_t stream);

}  // namespace gp::cuda
