// linear.cu: out (T,N) = x (T,K) f16 @ w (N,K)^T with f32 accumulation
// (kernels/ops.h). Versions:
//   gemv_v1: decode; one warp per output row, four lanes per 32-value block
//            (one 8-value slice each), up to 8 rows of x per pass over the
//            weights, quantized blocks read natively (d * sum(q x), as
//            ggml's vec_dot), butterfly shuffle reduction.
//   mma_v1:  prefill; 64x64x32 tiles, 4 warps of 32x32, mma.sync m16n8k8
//            f16 -> f32 with ldmatrix x4 (sm_75+); weight tiles dequantized
//            to f16 into shared memory while loading; plain global loads.
//   cublas:  vendor baseline; cublasGemmEx f16 x f16 -> f32 compute, after
//            dequantizing a quantized weight to f16 in the workspace.
// Block and fragment arithmetic is shared with the CPU tests (core/linear_tile.h).
#include <cublas_v2.h>

#include <climits>
#include <type_traits>
#include <cstdint>

#include "core/error.h"
#include "core/linear_tile.h"
#include "core/quant.h"
#include "kernels/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/ptx.h"
#include "kernels/ops.h"

namespace gp::cuda {
namespace {

// ---- shared device helpers ------------------------------------------------

// 8 halves (16 bytes) <-> floats
__device__ inline void unpack8(const uint4& v, float f[kSlice]) {
  const uint32_t w[4] = {v.x, v.y, v.z, v.w};
  for (int i = 0; i < 4; i++) {
    f[2 * i] = __half2float(__ushort_as_half((unsigned short)(w[i] & 0xffffu)));  // exact
    f[2 * i + 1] = __half2float(__ushort_as_half((unsigned short)(w[i] >> 16)));
  }
}
__device__ inline uint4 pack8(const uint16_t h[kSlice]) {
  uint4 v;
  v.x = h[0] | ((uint32_t)h[1] << 16);
  v.y = h[2] | ((uint32_t)h[3] << 16);
  v.z = h[4] | ((uint32_t)h[5] << 16);
  v.w = h[6] | ((uint32_t)h[7] << 16);
  return v;
}

__device__ inline void store_out(half* out_f16, float* out_f32, int64_t i, float v) {
  if (out_f16)
    out_f16[i] = __float2half_rn(v);
  else
    out_f32[i] = v;
}

// Slice s of block `blk` of a weight row as f16 bits (the tensor-core operand).
template <class Block>
__device__ inline uint4 load_slice_f16(const uint8_t* row, int64_t blk, int s) {
  uint16_t h[kSlice];
  slice_f16(reinterpret_cast<const Block*>(row)[blk], s, h);
  return pack8(h);
}

// ---- gemv_v1 ---------------------------------------------------------------

constexpr int kGemvRows = 8;   // rows of x per pass over the weights
constexpr int kGemvWarps = 4;  // output rows (warps) per thread block

// sum over the warp, the same butterfly order in every run
__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// grid (ceil(N / kGemvWarps), ceil(T / kGemvRows)); warp w of block b owns
// output column n = b * kGemvWarps + w for rows t0 .. t0 + 7.
// Lane l reads the 8-value slices c = l, l + 32, ... of the row: for a
// quantized row, part c % 4 of block c / 4 (four lanes share a block); for
// f16 (Block = void), values 8c .. 8c + 7.
template <class Block>
__global__ void __launch_bounds__(32 * kGemvWarps)
    linear_gemv_v1(half* out_f16, float* out_f32, const half* __restrict__ x,
                   const uint8_t* __restrict__ w, int T, int N, int K, int64_t row_bytes) {
  const int lane = threadIdx.x % 32;
  const int n = blockIdx.x * kGemvWarps + threadIdx.x / 32;
  const int t0 = blockIdx.y * kGemvRows;
  if (n >= N) return;  // whole warp leaves together
  const int rows = min(kGemvRows, T - t0);
  const uint8_t* row = w + (int64_t)n * row_bytes;
  const half* xt = x + (int64_t)t0 * K;

  float acc[kGemvRows];
#pragma unroll
  for (int t = 0; t < kGemvRows; t++) acc[t] = 0.0f;

  const int n_slices = K / kSlice;
  constexpr bool kF16 = std::is_void<Block>::value;
  for (int c = lane; c < n_slices; c += 32) {
    const int64_t k = (int64_t)c * kSlice;
    if constexpr (kF16) {
      float wv[kSlice];
      unpack8(*reinterpret_cast<const uint4*>(row + k * 2), wv);
#pragma unroll
      for (int t = 0; t < kGemvRows; t++) {
        if (t >= rows) break;
        float xv[kSlice];
        unpack8(*reinterpret_cast<const uint4*>(xt + t * (int64_t)K + k), xv);
        float s = 0.0f;
        for (int i = 0; i < kSlice; i++) s += wv[i] * xv[i];
        acc[t] += s;
      }
    } else {
      const SliceCodes q = slice_codes(reinterpret_cast<const Block*>(row)[c / kSlicesPerBlock],
                                       c % kSlicesPerBlock);
#pragma unroll
      for (int t = 0; t < kGemvRows; t++) {
        if (t >= rows) break;
        float xv[kSlice];
        unpack8(*reinterpret_cast<const uint4*>(xt + t * (int64_t)K + k), xv);
        acc[t] += slice_dot(q, xv);
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kGemvRows; t++) {
    const float v = warp_sum(acc[t]);  // every lane joins the shuffles
    if (lane == t && t < rows) store_out(out_f16, out_f32, (int64_t)(t0 + t) * N + n, v);
  }
}

// ---- mma_v1 ----------------------------------------------------------------

constexpr int kBM = 64, kBN = 64, kBK = 32;
constexpr int kMmaThreads = 128;   // 4 warps, 2 x 2, each 32 x 32
constexpr int kLds = kBK + 8;      // smem row stride in halves: 80 bytes, conflict-free ldmatrix

using ptx::ldmatrix_x4;
using ptx::mma_m16n8k8;

// grid (ceil(N / 64), ceil(T / 64)). Tiles of x (64 x 32) and w (64 x 32,
// dequantized to f16) go to shared memory as (row, k) with row stride kLds;
// rows past T or N and k past K are zero.
template <class Block>
__global__ void __launch_bounds__(kMmaThreads)
    linear_mma_v1(half* out_f16, float* out_f32, const half* __restrict__ x,
                  const uint8_t* __restrict__ w, int T, int N, int K, int64_t row_bytes) {
  GP_SHARED(uint16_t, xs, [kBM * kLds]);
  GP_SHARED(uint16_t, ws, [kBN * kLds]);
  constexpr bool kF16 = std::is_void<Block>::value;

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wm = (warp / 2) * 32, wn = (warp % 2) * 32;  // warp tile origin in the block tile
  const int64_t m0 = (int64_t)blockIdx.y * kBM, n0 = (int64_t)blockIdx.x * kBN;

  float acc[2][4][4];  // [m16 tile][n8 tile][register]
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += kBK) {
    // load: 64 rows x 4 slices per operand, 2 per thread
#pragma unroll
    for (int it = 0; it < 2; it++) {
      const int item = tid + it * kMmaThreads;
      const int r = item / kSlicesPerBlock, s = item % kSlicesPerBlock;
      const int k = k0 + s * kSlice;
      uint4 xv = make_uint4(0, 0, 0, 0), wv = make_uint4(0, 0, 0, 0);
      if (m0 + r < T && k < K) xv = *reinterpret_cast<const uint4*>(x + (m0 + r) * K + k);
      if (n0 + r < N && k < K) {
        const uint8_t* row = w + (n0 + r) * row_bytes;
        if constexpr (kF16)
          wv = *reinterpret_cast<const uint4*>(row + (int64_t)k * 2);
        else
          wv = load_slice_f16<Block>(row, k0 / kQK, s);
      }
      *reinterpret_cast<uint4*>(&xs[r * kLds + s * kSlice]) = xv;
      *reinterpret_cast<uint4*>(&ws[r * kLds + s * kSlice]) = wv;
    }
    __syncthreads();

#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      uint32_t a[2][4], b[2][4];
#pragma unroll
      for (int i = 0; i < 2; i++)
        ldmatrix_x4(a[i], &xs[(wm + 16 * i + ldsm_a_row(lane)) * kLds + kk + ldsm_a_col(lane)]);
#pragma unroll
      for (int jp = 0; jp < 2; jp++)
        ldmatrix_x4(b[jp], &ws[(wn + 16 * jp + ldsm_b_row(lane)) * kLds + kk + ldsm_b_col(lane)]);
#pragma unroll
      for (int h = 0; h < 2; h++)  // k-steps kk..kk+7, kk+8..kk+15
#pragma unroll
        for (int i = 0; i < 2; i++)
#pragma unroll
          for (int j = 0; j < 4; j++)
            mma_m16n8k8(acc[i][j], a[i][2 * h], a[i][2 * h + 1], b[j / 2][2 * (j % 2) + h]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int r = 0; r < 4; r++) {
        const int64_t m = m0 + wm + 16 * i + mma_c_row(lane, r);
        const int64_t n = n0 + wn + 8 * j + mma_c_col(lane, r);
        if (m < T && n < N) store_out(out_f16, out_f32, m * N + n, acc[i][j][r]);
      }
}

// ---- cublas: weight -> f16 workspace -----------------------------------------

// One thread per 8-value slice of the (N, K) weight; out row-major f16 (N, K).
template <class Block>
__global__ void linear_dequant_f16_v1(half* out, const uint8_t* __restrict__ w, int64_t N, int K,
                                      int64_t row_bytes) {
  const int64_t per_row = K / kSlice;
  const int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= N * per_row) return;
  const int64_t n = c / per_row, j = c % per_row;
  *reinterpret_cast<uint4*>(out + n * K + j * kSlice) =
      load_slice_f16<Block>(w + n * row_bytes, j / kSlicesPerBlock, (int)(j % kSlicesPerBlock));
}

// ---- launchers -------------------------------------------------------------

const char* algo_name(LinearAlgo a) {
  switch (a) {
    case LinearAlgo::Auto: return "auto";
    case LinearAlgo::Gemv: return "gemv";
    case LinearAlgo::Mma: return "mma";
    case LinearAlgo::Cublas: return "cublas";
  }
  return "?";
}

bool aligned(const void* p, size_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

// Checks the weight's dtype and shape; returns its row bytes.
int64_t check_weight(const DeviceWeight& w) {
  GP_CHECK(w.dtype == DType::F16 || w.dtype == DType::Q8_0 || w.dtype == DType::Q4_0 ||
               w.dtype == DType::Q4_1,
           "cuda linear: weight dtype ", dtype_name(w.dtype),
           " is unsupported (f16, q8_0, q4_0, q4_1; convert it when uploading)");
  GP_CHECK(w.rows > 0 && w.cols > 0, "cuda linear: weight shape (", w.rows, ", ", w.cols,
           ") is empty");
  GP_CHECK(w.rows <= INT_MAX && w.cols <= INT_MAX, "cuda linear: weight shape (", w.rows, ", ",
           w.cols, ") exceeds 2^31-1 in one dimension");
  const int64_t mult = dtype_is_quantized(w.dtype) ? kQK : kSlice;
  GP_CHECK(w.cols % mult == 0, "cuda linear: K = ", w.cols, " is not a multiple of ", mult,
           " (required for ", dtype_name(w.dtype), " weights)");
  return dtype_row_bytes(w.dtype, w.cols);
}

template <template <class> class Kernel>
void launch_by_dtype(DType t, dim3 grid, dim3 block, cudaStream_t stream, half* out_f16,
                     float* out_f32, const half* x, const uint8_t* w, int T, int N, int K,
                     int64_t row_bytes) {
  switch (t) {
    case DType::F16:
      Kernel<void>::launch(grid, block, stream, out_f16, out_f32, x, w, T, N, K, row_bytes);
      break;
    case DType::Q8_0:
      Kernel<block_q8_0>::launch(grid, block, stream, out_f16, out_f32, x, w, T, N, K, row_bytes);
      break;
    case DType::Q4_0:
      Kernel<block_q4_0>::launch(grid, block, stream, out_f16, out_f32, x, w, T, N, K, row_bytes);
      break;
    case DType::Q4_1:
      Kernel<block_q4_1>::launch(grid, block, stream, out_f16, out_f32, x, w, T, N, K, row_bytes);
      break;
    default:
      fail("cuda linear: weight dtype ", dtype_name(t), " is unsupported");
  }
}

template <class Block>
struct Gemv {
  static void launch(dim3 g, dim3 b, cudaStream_t s, half* o16, float* o32, const half* x,
                     const uint8_t* w, int T, int N, int K, int64_t rb) {
    GP_LAUNCH(g, b, 0, s, linear_gemv_v1<Block>)(o16, o32, x, w, T, N, K, rb);
  }
};
template <class Block>
struct Mma {
  static void launch(dim3 g, dim3 b, cudaStream_t s, half* o16, float* o32, const half* x,
                     const uint8_t* w, int T, int N, int K, int64_t rb) {
    GP_LAUNCH(g, b, 0, s, linear_mma_v1<Block>)(o16, o32, x, w, T, N, K, rb);
  }
};

void linear_cublas(half* out_f16, float* out_f32, const half* x, const DeviceWeight& w, int T,
                   int64_t row_bytes, void* workspace, cublasHandle_t cublas,
                   cudaStream_t stream) {
  GP_CHECK(cublas != nullptr, "cuda linear cublas: the cuBLAS handle is null");
  cudaStream_t bound = nullptr;
  GP_CUBLAS_CHECK(cublasGetStream(cublas, &bound));
  GP_CHECK(bound == stream, "cuda linear cublas: the cuBLAS handle is bound to another stream");
  const int N = (int)w.rows, K = (int)w.cols;
  const half* wf16 = reinterpret_cast<const half*>(w.data);
  if (w.dtype != DType::F16) {
    GP_CHECK(workspace != nullptr, "cuda linear cublas: a ", dtype_name(w.dtype),
             " weight needs a workspace of ", linear_workspace_bytes(w, LinearAlgo::Cublas),
             " bytes, got null");
    GP_CHECK(aligned(workspace, 16), "cuda linear cublas: workspace is not 16-byte aligned");
    half* ws = static_cast<half*>(workspace);
    const int64_t slices = (int64_t)N * (K / kSlice);
    const int threads = 256;
    const int64_t grid = (slices + threads - 1) / threads;
    GP_CHECK(grid <= INT_MAX, "cuda linear cublas: weight (", N, ", ", K, ") exceeds one launch");
    switch (w.dtype) {
      case DType::Q8_0:
        GP_LAUNCH((unsigned)grid, threads, 0, stream, linear_dequant_f16_v1<block_q8_0>)(ws, w.data, N, K, row_bytes);
        break;
      case DType::Q4_0:
        GP_LAUNCH((unsigned)grid, threads, 0, stream, linear_dequant_f16_v1<block_q4_0>)(ws, w.data, N, K, row_bytes);
        break;
      case DType::Q4_1:
        GP_LAUNCH((unsigned)grid, threads, 0, stream, linear_dequant_f16_v1<block_q4_1>)(ws, w.data, N, K, row_bytes);
        break;
      default:
        fail("cuda linear cublas: weight dtype ", dtype_name(w.dtype), " is unsupported");
    }
    GP_CUDA_CHECK(cudaGetLastError());
    wf16 = ws;
  }
  // row-major out (T,N) = x (T,K) w (N,K)^T is column-major out^T (N,T) =
  // op_T(w as column-major (K,N)) * (x as column-major (K,T))
  const float alpha = 1.0f, beta = 0.0f;
  void* out = out_f16 ? static_cast<void*>(out_f16) : static_cast<void*>(out_f32);
  GP_CUBLAS_CHECK(cublasGemmEx(cublas, CUBLAS_OP_T, CUBLAS_OP_N, N, T, K, &alpha, wf16,
                               CUDA_R_16F, K, x, CUDA_R_16F, K, &beta, out,
                               out_f16 ? CUDA_R_16F : CUDA_R_32F, N, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT));
}

}  // namespace

size_t linear_workspace_bytes(const DeviceWeight& w, LinearAlgo algo) {
  check_weight(w);
  if (algo != LinearAlgo::Cublas || w.dtype == DType::F16) return 0;
  return (size_t)w.rows * (size_t)w.cols * sizeof(half);
}

void linear(half* out_f16, float* out_f32, const half* x, const DeviceWeight& w, int T,
            LinearAlgo algo, void* workspace, cublasHandle_t cublas, cudaStream_t stream) {
  const int64_t row_bytes = check_weight(w);
  GP_CHECK((out_f16 == nullptr) != (out_f32 == nullptr),
           "cuda linear: exactly one of out_f16 and out_f32 must be non-null");
  GP_CHECK(x != nullptr, "cuda linear: x is null");
  GP_CHECK(w.data != nullptr, "cuda linear: weight data is null");
  GP_CHECK(T > 0, "cuda linear: T = ", T, " rows (must be positive)");
  GP_CHECK(aligned(x, 16), "cuda linear: x is not 16-byte aligned (rows are read as 8 halves)");
  GP_CHECK(aligned(w.data, w.dtype == DType::F16 ? 16 : 2), "cuda linear: ",
           dtype_name(w.dtype), " weight data is not ", w.dtype == DType::F16 ? 16 : 2,
           "-byte aligned");
  const int N = (int)w.rows, K = (int)w.cols;

  if (algo == LinearAlgo::Auto) algo = T <= kGemvRows ? LinearAlgo::Gemv : LinearAlgo::Mma;
  switch (algo) {
    case LinearAlgo::Gemv: {
      const dim3 grid((N + kGemvWarps - 1) / kGemvWarps, (T + kGemvRows - 1) / kGemvRows);
      GP_CHECK(grid.y <= 65535, "cuda linear gemv: T = ", T, " exceeds ", 65535 * kGemvRows,
               " rows");
      launch_by_dtype<Gemv>(w.dtype, grid, dim3(32 * kGemvWarps), stream, out_f16, out_f32, x,
                            w.data, T, N, K, row_bytes);
      break;
    }
    case LinearAlgo::Mma: {
      const dim3 grid((N + kBN - 1) / kBN, (T + kBM - 1) / kBM);
      GP_CHECK(grid.y <= 65535, "cuda linear mma: T = ", T, " exceeds ", 65535 * kBM, " rows");
      launch_by_dtype<Mma>(w.dtype, grid, dim3(kMmaThreads), stream, out_f16, out_f32, x, w.data,
                           T, N, K, row_bytes);
      break;
    }
    case LinearAlgo::Cublas:
      linear_cublas(out_f16, out_f32, x, w, T, row_bytes, workspace, cublas, stream);
      return;  // checked inside
    default:
      fail("cuda linear: algorithm ", algo_name(algo), " is unknown");
  }
  GP_CUDA_CHECK(cudaGetLastError());
}

}  // namespace gp::cuda
