// dequantize.cu: GPU block dequantization (dequantize.h).
// v1: one thread per value; reads its block header through the shared
// host/device functions of core/quant.h.
#include "core/error.h"
#include "core/quant.h"
#include "kernels/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/dequantize.h"

namespace gp::cuda {
namespace {

template <class Block, float (*Value)(const Block&, int)>
__global__ void dequantize_blocks_v1(float* out, const Block* src, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = Value(src[i / kQK], (int)(i % kQK));
}

__global__ void dequantize_f16_v1(float* out, const uint16_t* src, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = f16_to_f32(src[i]);
}

__global__ void dequantize_bf16_v1(float* out, const uint16_t* src, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = bf16_to_f32(src[i]);
}

}  // namespace

void dequantize(float* out, DType t, const uint8_t* src, int64_t n, cudaStream_t stream) {
  GP_CHECK(n >= 0 && n % dtype_block_elems(t) == 0, "cuda dequantize: ", n, " values of ",
           dtype_name(t), " is not a whole number of blocks");
  if (n == 0) return;
  const int threads = 256;
  const int64_t grid = (n + threads - 1) / threads;
  GP_CHECK(grid <= 0x7fffffff, "cuda dequantize: ", n, " values exceed one launch");
  switch (t) {
    case DType::F32:
      GP_CUDA_CHECK(cudaMemcpyAsync(out, src, n * 4, cudaMemcpyDeviceToDevice, stream));
      return;
    case DType::F16:
      GP_LAUNCH((unsigned)grid, threads, 0, stream, dequantize_f16_v1)(out, reinterpret_cast<const uint16_t*>(src), n);
      break;
    case DType::BF16:
      GP_LAUNCH((unsigned)grid, threads, 0, stream, dequantize_bf16_v1)(out, reinterpret_cast<const uint16_t*>(src), n);
      break;
    case DType::Q8_0:
      GP_LAUNCH((unsigned)grid, threads, 0, stream, dequantize_blocks_v1<block_q8_0, q8_0_value>)(out, reinterpret_cast<const block_q8_0*>(src), n);
      break;
    case DType::Q4_0:
      GP_LAUNCH((unsigned)grid, threads, 0, stream, dequantize_blocks_v1<block_q4_0, q4_0_value>)(out, reinterpret_cast<const block_q4_0*>(src), n);
      break;
    case DType::Q4_1:
      GP_LAUNCH((unsigned)grid, threads, 0, stream, dequantize_blocks_v1<block_q4_1, q4_1_value>)(out, reinterpret_cast<const block_q4_1*>(src), n);
      break;
  }
  GP_CUDA_CHECK(cudaGetLastError());
}

}  // namespace gp::cuda
