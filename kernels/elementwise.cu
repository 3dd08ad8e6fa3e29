// elementwise.cu: the row-wise and element-wise ops of the generation path
// (kernels/ops.h, "elementwise" section): embedding, rmsnorm, rope, swiglu,
// add_residual, softmax and the f32 <-> f16 conversions.
// v1 (every op): one block per row for the reductions (rmsnorm, softmax), one
// thread per element otherwise. Reductions accumulate in f32 in a fixed order
// (per-thread strided sums, then a butterfly over the warp, then warp 0 over
// the warps' partials), so a shape gives the same bits on every run.
// Stored weights are read through core/quant.h's GP_HD functions and RoPE
// angles through core/rope.h, the same arithmetic as reference/ops.cpp.
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "core/quant.h"
#include "core/rope.h"
#include "kernels/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/ops.h"

namespace gp::cuda {
namespace {

// ---------------------------------------------------------------------------
// fixed-order block reductions

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;

struct SumOp {
  static constexpr float kIdentity = 0.0f;
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct MaxOp {
  static constexpr float kIdentity = -INFINITY;
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// Every thread of the block gets the reduction of v over the block. blockDim.x
// is a multiple of 32 and at most 1024; smem holds 32 floats. The order of
// the operations depends only on blockDim.x: a butterfly within each warp,
// then warp 0 runs the same butterfly over the warps' partials.
template <class Op>
__device__ float block_reduce(float v, float* smem, Op op) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  for (int o = kWarp / 2; o > 0; o /= 2) v = op(v, __shfl_xor_sync(kFullMask, v, o));
  __syncthreads();  // smem may still be read by a previous call
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float w = lane < (int)(blockDim.x / kWarp) ? smem[lane] : Op::kIdentity;
    for (int o = kWarp / 2; o > 0; o /= 2) w = op(w, __shfl_xor_sync(kFullMask, w, o));
    if (lane == 0) smem[0] = w;
  }
  __syncthreads();
  return smem[0];
}

// threads for a row of n values: a multiple of 32, at most kMax
template <int kMax>
int row_threads(int64_t n) {
  int t = kWarp;
  while (t < kMax && t < n) t *= 2;
  return t;
}

__device__ float load_f32(float v) { return v; }
__device__ float load_f32(half v) { return __half2float(v); }

// ---------------------------------------------------------------------------
// embedding

// value j of a table row stored as each dtype
struct RowF32 {
  __device__ static float get(const uint8_t* row, int j) { return reinterpret_cast<const float*>(row)[j]; }
};
struct RowF16 {
  __device__ static float get(const uint8_t* row, int j) {
    return gp::f16_to_f32(reinterpret_cast<const uint16_t*>(row)[j]);
  }
};
struct RowBF16 {
  __device__ static float get(const uint8_t* row, int j) {
    return bf16_to_f32(reinterpret_cast<const uint16_t*>(row)[j]);
  }
};
struct RowQ8_0 {
  __device__ static float get(const uint8_t* row, int j) {
    return q8_0_value(reinterpret_cast<const block_q8_0*>(row)[j / kQK], j % kQK);
  }
};
struct RowQ4_0 {
  __device__ static float get(const uint8_t* row, int j) {
    return q4_0_value(reinterpret_cast<const block_q4_0*>(row)[j / kQK], j % kQK);
  }
};
struct RowQ4_1 {
  __device__ static float get(const uint8_t* row, int j) {
    return q4_1_value(reinterpret_cast<const block_q4_1*>(row)[j / kQK], j % kQK);
  }
};

// grid (T, ceil(D / blockDim)): row t, columns blockIdx.y * blockDim + threadIdx
template <class Row>
__global__ void embedding_v1(float* out, const uint8_t* table, int64_t row_bytes, const int32_t* ids,
                             int64_t V, int D, int* bad_id) {
  const int t = blockIdx.x;
  const int j = blockIdx.y * blockDim.x + threadIdx.x;
  const int32_t id = ids[t];
  const bool bad = id < 0 || id >= V;
  if (bad && bad_id && blockIdx.y == 0 && threadIdx.x == 0) {
    // keep the first bad row (lowest t), whatever order the blocks run in
    int old = *bad_id;
    while (old == 0 || old > t + 1) {
      const int prev = atomicCAS(bad_id, old, t + 1);
      if (prev == old) break;
      old = prev;
    }
  }
  if (j >= D) return;
  out[(int64_t)t * D + j] = bad ? __int_as_float(0x7fc00000) : Row::get(table + id * row_bytes, j);
}

// ---------------------------------------------------------------------------
// rmsnorm, softmax

// one block per row: out = x / sqrt(mean(x^2) + eps) * weight
template <class X>
__global__ void rmsnorm_v1(half* out, const X* x, const float* weight, int D, float eps) {
  GP_SHARED(float, smem, [kWarp]);
  const X* xr = x + (int64_t)blockIdx.x * D;
  float ss = 0;
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    const float v = load_f32(xr[i]);
    ss += v * v;
  }
  ss = block_reduce(ss, smem, SumOp());
  const float inv = 1.0f / sqrtf(ss / (float)D + eps);
  half* o = out + (int64_t)blockIdx.x * D;
  for (int i = threadIdx.x; i < D; i += blockDim.x) o[i] = __float2half_rn(weight[i] * (load_f32(xr[i]) * inv));
}

// one block per row: out = exp(x - max) / sum exp(x - max)
__global__ void softmax_v1(float* out, const float* x, int N) {
  GP_SHARED(float, smem, [kWarp]);
  const float* xr = x + (int64_t)blockIdx.x * N;
  float m = -INFINITY;
  for (int i = threadIdx.x; i < N; i += blockDim.x) m = fmaxf(m, xr[i]);
  m = block_reduce(m, smem, MaxOp());
  float s = 0;
  for (int i = threadIdx.x; i < N; i += blockDim.x) s += expf(xr[i] - m);
  s = block_reduce(s, smem, SumOp());
  float* o = out + (int64_t)blockIdx.x * N;
  for (int i = threadIdx.x; i < N; i += blockDim.x) o[i] = expf(xr[i] - m) / s;
}

// ---------------------------------------------------------------------------
// rope, swiglu, add_residual, conversions

constexpr int kMaxRopeHalf = 128;  // hd <= 256

// one block per token: the (hd/2) cos/sin of its position in shared memory
// (cos/sin in double rounded to float, as the reference), then every head
__global__ void rope_v1(half* x, const int32_t* positions, const int* d_pos0, const float* inv_freq,
                        int H, int hd) {
  GP_SHARED(float, cs, [kMaxRopeHalf]);
  GP_SHARED(float, sn, [kMaxRopeHalf]);
  const int t = blockIdx.x;
  const int half_hd = hd / 2;
  const int64_t pos = positions ? (int64_t)positions[t] : (int64_t)*d_pos0 + t;
  for (int i = threadIdx.x; i < half_hd; i += blockDim.x) {
    double s, c;
    sincos((double)rope_angle(pos, inv_freq[i]), &s, &c);
    cs[i] = (float)c;
    sn[i] = (float)s;
  }
  __syncthreads();
  for (int e = threadIdx.x; e < H * half_hd; e += blockDim.x) {
    const int h = e / half_hd, i = e % half_hd;
    half* p = x + ((int64_t)t * H + h) * hd;
    const float x0 = __half2float(p[i]), x1 = __half2float(p[i + half_hd]);
    p[i] = __float2half_rn(x0 * cs[i] - x1 * sn[i]);
    p[i + half_hd] = __float2half_rn(x1 * cs[i] + x0 * sn[i]);
  }
}

__global__ void swiglu_v1(half* out, const half* gate, const half* up, int64_t n, int F, int64_t ld) {
  for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
    const int64_t src = (e / F) * ld + e % F;
    const float g = __half2float(gate[src]);
    out[e] = __float2half_rn(g / (1.0f + expf(-g)) * __half2float(up[src]));
  }
}

__global__ void add_residual_v1(float* residual, const half* delta, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    residual[i] += __half2float(delta[i]);
}

__global__ void f32_to_f16_v1(half* out, const float* in, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = __float2half_rn(in[i]);
}

__global__ void f16_to_f32_v1(float* out, const half* in, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = __half2float(in[i]);
}

// grid for a grid-stride loop over n elements
constexpr int kEltThreads = 256;
unsigned elt_grid(int64_t n) {
  const int64_t blocks = (n + kEltThreads - 1) / kEltThreads;
  return (unsigned)(blocks < 65536 ? blocks : 65536);
}

template <class Row>
void launch_embedding(float* out, const DeviceWeight& table, const int32_t* ids, int T, int* bad_id,
                      cudaStream_t stream) {
  const int D = (int)table.cols;
  const int threads = row_threads<256>(D);
  const dim3 grid((unsigned)T, (unsigned)((D + threads - 1) / threads));
  GP_LAUNCH(grid, threads, 0, stream, embedding_v1<Row>)(out, table.data, dtype_row_bytes(table.dtype, D), ids,
                                                  table.rows, D, bad_id);
}

}  // namespace

// ---------------------------------------------------------------------------
// launchers

void embedding(float* out, const DeviceWeight& table, const int32_t* ids, int T, int* bad_id,
               cudaStream_t stream) {
  GP_CHECK(T >= 0, "cuda embedding: negative token count ", T);
  GP_CHECK(table.rows > 0 && table.cols > 0 && table.cols <= 0x7fffffff,
           "cuda embedding: table shape (", table.rows, ", ", table.cols, ") is unsupported");
  GP_CHECK(table.cols % dtype_block_elems(table.dtype) == 0, "cuda embedding: row of ", table.cols,
           " values is not a whole number of ", dtype_name(table.dtype), " blocks");
  if (T == 0) return;
  GP_CHECK(out && table.data && ids, "cuda embedding: null pointer");
  switch (table.dtype) {
    case DType::F32: launch_embedding<RowF32>(out, table, ids, T, bad_id, stream); break;
    case DType::F16: launch_embedding<RowF16>(out, table, ids, T, bad_id, stream); break;
    case DType::BF16: launch_embedding<RowBF16>(out, table, ids, T, bad_id, stream); break;
    case DType::Q8_0: launch_embedding<RowQ8_0>(out, table, ids, T, bad_id, stream); break;
    case DType::Q4_0: launch_embedding<RowQ4_0>(out, table, ids, T, bad_id, stream); break;
    case DType::Q4_1: launch_embedding<RowQ4_1>(out, table, ids, T, bad_id, stream); break;
    default: fail("cuda embedding: table dtype ", dtype_name(table.dtype), " is unsupported");
  }
  GP_CUDA_CHECK(cudaGetLastError());
}

void rmsnorm(half* out, const float* x, const half* x_f16, const float* weight, int T, int D,
             float eps, cudaStream_t stream) {
  GP_CHECK(T >= 0 && D > 0, "cuda rmsnorm: shape (", T, ", ", D, ") is unsupported");
  if (T == 0) return;
  GP_CHECK(out && weight && (x || x_f16), "cuda rmsnorm: null pointer");
  const int threads = row_threads<256>(D);
  if (x_f16)
    GP_LAUNCH(T, threads, 0, stream, rmsnorm_v1<half>)(out, x_f16, weight, D, eps);
  else
    GP_LAUNCH(T, threads, 0, stream, rmsnorm_v1<float>)(out, x, weight, D, eps);
  GP_CUDA_CHECK(cudaGetLastError());
}

void rope(half* x, const int32_t* positions, const int* d_pos0, const float* inv_freq, int T,
          int H, int hd, cudaStream_t stream) {
  GP_CHECK(hd > 0 && hd % 2 == 0 && hd / 2 <= kMaxRopeHalf, "cuda rope: head size ", hd,
           " is unsupported (even, at most ", 2 * kMaxRopeHalf, ")");
  GP_CHECK(T >= 0 && H > 0, "cuda rope: shape (", T, ", ", H, ", ", hd, ") is unsupported");
  if (T == 0) return;
  GP_CHECK(x && inv_freq, "cuda rope: null pointer");
  GP_CHECK(positions || d_pos0, "cuda rope: neither positions nor d_pos0 given");
  const int threads = row_threads<256>((int64_t)H * (hd / 2));
  GP_LAUNCH(T, threads, 0, stream, rope_v1)(x, positions, d_pos0, inv_freq, H, hd);
  GP_CUDA_CHECK(cudaGetLastError());
}

void swiglu(half* out, const half* gate, const half* up, int T, int F, int64_t ld,
            cudaStream_t stream) {
  GP_CHECK(T >= 0 && F > 0 && ld >= F, "cuda swiglu: shape (", T, ", ", F, ") with row stride ", ld,
           " is unsupported");
  const int64_t n = (int64_t)T * F;
  if (n == 0) return;
  GP_CHECK(out && gate && up, "cuda swiglu: null pointer");
  GP_LAUNCH(elt_grid(n), kEltThreads, 0, stream, swiglu_v1)(out, gate, up, n, F, ld);
  GP_CUDA_CHECK(cudaGetLastError());
}

void add_residual(float* residual, const half* delta, int64_t n, cudaStream_t stream) {
  GP_CHECK(n >= 0, "cuda add_residual: negative size ", n);
  if (n == 0) return;
  GP_CHECK(residual && delta, "cuda add_residual: null pointer");
  GP_LAUNCH(elt_grid(n), kEltThreads, 0, stream, add_residual_v1)(residual, delta, n);
  GP_CUDA_CHECK(cudaGetLastError());
}

void softmax(float* out, const float* x, int T, int N, cudaStream_t stream) {
  GP_CHECK(T >= 0 && N > 0, "cuda softmax: shape (", T, ", ", N, ") is unsupported");
  if (T == 0) return;
  GP_CHECK(out && x, "cuda softmax: null pointer");
  GP_LAUNCH(T, row_threads<1024>(N), 0, stream, softmax_v1)(out, x, N);
  GP_CUDA_CHECK(cudaGetLastError());
}

void f32_to_f16(half* out, const float* in, int64_t n, cudaStream_t stream) {
  GP_CHECK(n >= 0, "cuda f32_to_f16: negative size ", n);
  if (n == 0) return;
  GP_CHECK(out && in, "cuda f32_to_f16: null pointer");
  GP_LAUNCH(elt_grid(n), kEltThreads, 0, stream, f32_to_f16_v1)(out, in, n);
  GP_CUDA_CHECK(cudaGetLastError());
}

void f16_to_f32(float* out, const half* in, int64_t n, cudaStream_t stream) {
  GP_CHECK(n >= 0, "cuda f16_to_f32: negative size ", n);
  if (n == 0) return;
  GP_CHECK(out && in, "cuda f16_to_f32: null pointer");
  GP_LAUNCH(elt_grid(n), kEltThreads, 0, stream, f16_to_f32_v1)(out, in, n);
  GP_CUDA_CHECK(cudaGetLastError());
}

}  // namespace gp::cuda
