// attention.cu: causal attention with GQA and an optional sliding window, and
// the KV-cache write (kernels/ops.h, "attention" section). Semantics are those
// of reference/ops.cpp gp::ref::attention; softmax state arithmetic is shared
// with the CPU tests through core/softmax_merge.h.
// prefill v1: flash attention on CUDA cores (Dao et al. 2022, online softmax of
//   Milakov & Gimelshein 2018): one block per (32-query tile, q head), 32-key
//   tiles of K and V streamed through shared memory, f32 scores and softmax.
// decode v1: split-K (FlashDecoding): one block per (128-key split, q head)
//   writes its (m, l, acc) state; a second kernel merges the states of each
//   head in split order, so results are bitwise reproducible (no atomics).
// kv_write: copies new K/V rows into the caches at a host or device position.
// Specialized for hd 64, 96, 128; one generic path for any multiple of 8 <= 256.
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "core/softmax_merge.h"
#include "kernels/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/ops.h"

namespace gp::cuda {
namespace {

constexpr int kMaxHd = 256;

// ---------------------------------------------------------------------------
// helpers

// 8 halves (one 16-byte load) as floats
__device__ inline void unpack8(const uint4& x, float* f) {
  const half2* h = reinterpret_cast<const half2*>(&x);
#pragma unroll
  for (int e = 0; e < 4; e++) {
    const float2 v = __half22float2(h[e]);
    f[2 * e] = v.x;
    f[2 * e + 1] = v.y;
  }
}

// Butterfly reductions: every lane ends with the same value (each step adds a
// commutative pair), in a fixed order.
__device__ inline float warp_max(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}
__device__ inline float warp_sum(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

// Block-wide reduction of one value per thread (blockDim.x == kWarps * 32),
// combining the warps' results in warp order. scratch: kWarps floats.
template <int kWarps, bool kMax>
__device__ inline float block_reduce(float x, float* scratch) {
  x = kMax ? warp_max(x) : warp_sum(x);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = x;
  __syncthreads();
  float r = scratch[0];
#pragma unroll
  for (int w = 1; w < kWarps; w++) r = kMax ? fmaxf(r, scratch[w]) : r + scratch[w];
  __syncthreads();  // scratch may be reused right after
  return r;
}

// ---------------------------------------------------------------------------
// prefill

constexpr int kPrefillRows = 32;  // queries per block
constexpr int kPrefillKeys = 32;  // keys per shared-memory tile: one per lane
constexpr int kPrefillWarps = 4;
constexpr int kRowsPerWarp = kPrefillRows / kPrefillWarps;

struct PrefillArgs {
  half* out;
  const half* q;
  const half* k;
  const half* v;
  int T, pos0, Hq, Hkv, hd, window;
  float scale;
};

// shared memory: q (32, hd), k (32, hd + 8), v (32, hd) f16, p (4 warps, 8 rows, 32 keys) f32.
// The k rows are padded by 16 bytes so lanes reading different rows hit different banks.
size_t prefill_smem_bytes(int hd) {
  return 2 * (size_t)(kPrefillRows * hd + kPrefillKeys * (hd + 8) + kPrefillKeys * hd) +
         4 * (size_t)(kPrefillWarps * kRowsPerWarp * kPrefillKeys);
}

// grid (ceil(T / 32), Hq), block 128. Warp w owns query rows 8w..8w+7 of the
// tile; in the score phase lane j owns key j of the key tile, in the P.V phase
// lane owns output dims lane, lane + 32, ...
template <int HD>  // 0: generic, hd read at run time
__global__ void __launch_bounds__(kPrefillWarps * 32) attention_prefill_v1(PrefillArgs a) {
  constexpr int kDims = HD > 0 ? (HD + 31) / 32 : kMaxHd / 32;  // output dims per lane
  const int hd = HD > 0 ? HD : a.hd;
  const int vec = hd / 8;  // 16-byte loads per row
  const int ks = hd + 8;   // k row stride in shared memory (halves)
  GP_DYNAMIC_SHARED(unsigned char, smem);
  half* sq = reinterpret_cast<half*>(smem);
  half* sk = sq + kPrefillRows * hd;
  half* sv = sk + kPrefillKeys * ks;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float* sp = reinterpret_cast<float*>(sv + kPrefillKeys * hd) + warp * kRowsPerWarp * kPrefillKeys;

  const int h = blockIdx.y, kh = h / (a.Hq / a.Hkv);
  const int t0 = blockIdx.x * kPrefillRows;
  const int rows = min(kPrefillRows, a.T - t0);

  for (int i = threadIdx.x; i < kPrefillRows * vec; i += blockDim.x) {
    const int r = i / vec, c = i % vec;
    uint4 x = make_uint4(0, 0, 0, 0);
    if (r < rows) x = reinterpret_cast<const uint4*>(a.q + ((int64_t)(t0 + r) * a.Hq + h) * hd)[c];
    reinterpret_cast<uint4*>(sq + r * hd)[c] = x;
  }

  // keys any row of the tile sees: [k_lo, k_hi]
  const int k_hi = a.pos0 + t0 + rows - 1;
  const int k_lo = a.window > 0 ? max(0, a.pos0 + t0 - a.window + 1) : 0;

  float acc[kRowsPerWarp][kDims];
  float m[kRowsPerWarp], l[kRowsPerWarp];  // m: the row's running max (same in every lane); l: this lane's share of the sum
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; r++) {
    m[r] = -INFINITY;
    l[r] = 0.0f;
#pragma unroll
    for (int i = 0; i < kDims; i++) acc[r][i] = 0.0f;
  }

  for (int kb = k_lo; kb <= k_hi; kb += kPrefillKeys) {
    __syncthreads();  // the previous tile is consumed (and q is staged)
    for (int i = threadIdx.x; i < kPrefillKeys * vec; i += blockDim.x) {
      const int r = i / vec, c = i % vec, j = kb + r;
      uint4 xk = make_uint4(0, 0, 0, 0), xv = xk;
      if (j <= k_hi) {
        const int64_t off = ((int64_t)j * a.Hkv + kh) * hd;
        xk = reinterpret_cast<const uint4*>(a.k + off)[c];
        xv = reinterpret_cast<const uint4*>(a.v + off)[c];
      }
      reinterpret_cast<uint4*>(sk + r * ks)[c] = xk;
      reinterpret_cast<uint4*>(sv + r * hd)[c] = xv;
    }
    __syncthreads();

    // scores of key kb + lane against the warp's rows
    float s[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; r++) s[r] = 0.0f;
    const uint4* krow = reinterpret_cast<const uint4*>(sk + lane * ks);
    for (int c = 0; c < vec; c++) {
      float kf[8];
      unpack8(krow[c], kf);
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; r++) {
        float qf[8];
        unpack8(reinterpret_cast<const uint4*>(sq + (warp * kRowsPerWarp + r) * hd)[c], qf);
#pragma unroll
        for (int e = 0; e < 8; e++) s[r] = fmaf(qf[e], kf[e], s[r]);
      }
    }
    const int j = kb + lane;
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; r++) {
      const int row = warp * kRowsPerWarp + r;
      const int p = a.pos0 + t0 + row;  // the query's position
      const bool visible = row < rows && j <= p && (a.window <= 0 || p - j < a.window);
      s[r] = visible ? s[r] * a.scale : -INFINITY;
      // online softmax: merge the tile's state into the row's (core/softmax_merge.h)
      const float m_new = fmaxf(m[r], warp_max(s[r]));
      const float alpha = softmax_rescale(m[r], m_new);
      const float pj = softmax_rescale(s[r], m_new);
      m[r] = m_new;
      l[r] = l[r] * alpha + pj;
#pragma unroll
      for (int i = 0; i < kDims; i++) acc[r][i] *= alpha;
      sp[r * kPrefillKeys + lane] = pj;
    }
    __syncwarp();

    // acc += P (8 x 32) . V (32 x hd), 4 keys at a time
    for (int jj = 0; jj < kPrefillKeys; jj += 4) {
      float vf[4][kDims];
#pragma unroll
      for (int u = 0; u < 4; u++)
#pragma unroll
        for (int i = 0; i < kDims; i++) {
          const int d = lane + 32 * i;
          vf[u][i] = (HD % 32 == 0 && HD > 0) || d < hd ? __half2float(sv[(jj + u) * hd + d]) : 0.0f;
        }
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; r++) {
        const float4 pr = *reinterpret_cast<const float4*>(sp + r * kPrefillKeys + jj);
#pragma unroll
        for (int i = 0; i < kDims; i++) {
          acc[r][i] = fmaf(pr.x, vf[0][i], acc[r][i]);
          acc[r][i] = fmaf(pr.y, vf[1][i], acc[r][i]);
          acc[r][i] = fmaf(pr.z, vf[2][i], acc[r][i]);
          acc[r][i] = fmaf(pr.w, vf[3][i], acc[r][i]);
        }
      }
    }
    __syncwarp();  // sp is rewritten by the next tile
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; r++) {
    const int row = warp * kRowsPerWarp + r;
    const float lsum = warp_sum(l[r]);
    if (row >= rows) continue;
    half* o = a.out + ((int64_t)(t0 + row) * a.Hq + h) * hd;
#pragma unroll
    for (int i = 0; i < kDims; i++) {
      const int d = lane + 32 * i;
      if (d < hd) o[d] = __float2half(softmax_finalize(acc[r][i], lsum));
    }
  }
}

// ---------------------------------------------------------------------------
// decode (split-K)

constexpr int kDecodeSplit = 128;  // keys per block, one per thread in the score phase
constexpr int kDecodeWarps = kDecodeSplit / 32;

int decode_splits(int max_ctx) { return (max_ctx + kDecodeSplit - 1) / kDecodeSplit; }

// partials: (Hq, n_splits, 2 + hd) f32: m, l, acc[hd] of each split.
// grid (n_splits, Hq), block 128. Splits outside the live keys (beyond the
// context, or before the sliding window) write the neutral state (-inf, 0, 0).
template <int HD>  // 0: generic
__global__ void __launch_bounds__(kDecodeSplit)
    attention_decode_v1(float* partials, const half* q, const half* k, const half* v,
                        const int* d_pos0, int max_ctx, int n_splits, int Hq, int Hkv, int hd_arg,
                        int window, float scale) {
  const int hd = HD > 0 ? HD : hd_arg;
  const int split = blockIdx.x, h = blockIdx.y, kh = h / (Hq / Hkv);
  const int pos = *d_pos0;  // the query's position: keys 0..pos are in the cache
  float* part = partials + ((int64_t)h * n_splits + split) * (2 + hd);
  const int j0 = split * kDecodeSplit;
  const int jb = max(j0, window > 0 ? max(0, pos - window + 1) : 0);
  // live keys of this split: [jb, je], never past the cache (a position
  // outside it reads nothing; the merge writes NaN for it)
  const int je = min(min(j0 + kDecodeSplit - 1, pos), max_ctx - 1);
  if (jb > je) {
    for (int i = threadIdx.x; i < 2 + hd; i += blockDim.x) part[i] = i == 0 ? -INFINITY : 0.0f;
    return;
  }

  GP_SHARED(float, sq, [kMaxHd]);
  GP_SHARED(float, sp, [kDecodeSplit]);
  GP_SHARED(float, sacc, [kMaxHd > kDecodeSplit ? kMaxHd : kDecodeSplit]);
  GP_SHARED(float, sred, [kDecodeWarps]);
  for (int i = threadIdx.x; i < hd; i += blockDim.x) sq[i] = __half2float(q[(int64_t)h * hd + i]);
  __syncthreads();

  const int j = j0 + threadIdx.x;
  float s = -INFINITY;
  if (j >= jb && j <= je) {
    const uint4* kr = reinterpret_cast<const uint4*>(k + ((int64_t)j * Hkv + kh) * hd);
    float dot = 0.0f;
#pragma unroll 4
    for (int c = 0; c < hd / 8; c++) {
      float kf[8];
      unpack8(kr[c], kf);
#pragma unroll
      for (int e = 0; e < 8; e++) dot = fmaf(sq[8 * c + e], kf[e], dot);
    }
    s = dot * scale;
  }
  const float m = block_reduce<kDecodeWarps, true>(s, sred);
  const float p = softmax_rescale(s, m);
  sp[threadIdx.x] = p;
  const float l = block_reduce<kDecodeWarps, false>(p, sred);  // also orders sp's writes

  // acc[d] = sum_j p_j v_j[d]: thread (g, d) takes keys g, g + G, ... of the split
  const int G = hd <= kDecodeSplit ? kDecodeSplit / hd : 1;
  for (int w = threadIdx.x; w < G * hd; w += blockDim.x) {
    const int d = w % hd, g = w / hd;
    float sum = 0.0f;
    for (int jj = g; jj < kDecodeSplit; jj += G) {
      const int jk = j0 + jj;
      if (jk < jb || jk > je) continue;  // never read rows outside the live keys
      sum = fmaf(sp[jj], __half2float(v[((int64_t)jk * Hkv + kh) * hd + d]), sum);
    }
    sacc[g * hd + d] = sum;
  }
  __syncthreads();
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float sum = 0.0f;
    for (int g = 0; g < G; g++) sum += sacc[g * hd + d];
    part[2 + d] = sum;
  }
  if (threadIdx.x == 0) {
    part[0] = m;
    part[1] = l;
  }
}

// grid Hq, block 256: thread d merges dim d over the live splits in split
// order. A position outside [0, max_ctx) writes NaN (the grid did not cover it).
__global__ void __launch_bounds__(256)
    attention_decode_merge_v1(half* out, const float* partials, const int* d_pos0, int max_ctx,
                              int n_splits, int hd) {
  const int h = blockIdx.x, pos = *d_pos0;
  const bool covered = pos >= 0 && pos < max_ctx;
  const int live = covered ? pos / kDecodeSplit + 1 : 0;
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    SoftmaxState st;
    float acc = 0.0f;
    for (int sidx = 0; sidx < live; sidx++) {
      const float* part = partials + ((int64_t)h * n_splits + sidx) * (2 + hd);
      float sa = 0.0f, sb = 0.0f;
      st = softmax_merge(st, SoftmaxState{part[0], part[1]}, &sa, &sb);
      acc = acc * sa + part[2 + d] * sb;
    }
    out[(int64_t)h * hd + d] = __float2half(covered ? softmax_finalize(acc, st.l) : NAN);
  }
}

// ---------------------------------------------------------------------------
// kv_write

// n16: 16-byte units per cache row block (T * Hkv * hd / 8)
__global__ void kv_write_v1(uint4* k_cache, uint4* v_cache, const uint4* k, const uint4* v,
                            int64_t n16, int pos0, const int* d_pos0, int64_t row16) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n16) return;
  const int64_t dst = (int64_t)(d_pos0 ? *d_pos0 : pos0) * row16 + i;
  k_cache[dst] = k[i];
  v_cache[dst] = v[i];
}

// ---------------------------------------------------------------------------
// launchers

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

void check_shape(const char* op, const AttentionShape& s) {
  GP_CHECK(s.Hq > 0 && s.Hkv > 0 && s.Hq % s.Hkv == 0, op, ": ", s.Hq,
           " query heads is not a positive multiple of ", s.Hkv, " kv heads");
  GP_CHECK(s.hd > 0 && s.hd % 8 == 0 && s.hd <= kMaxHd, op, ": head dim ", s.hd,
           " unsupported (must be a multiple of 8, at most ", kMaxHd, ")");
  GP_CHECK(s.window >= 0, op, ": sliding window ", s.window, " is negative");
  GP_CHECK(s.Hq <= 65535, op, ": ", s.Hq, " query heads exceed the grid's y limit 65535");
}

template <int HD>
void launch_prefill(const PrefillArgs& a, dim3 grid, cudaStream_t stream) {
  const size_t smem = prefill_smem_bytes(a.hd);
  if (smem > 48 * 1024)
    GP_CUDA_CHECK(cudaFuncSetAttribute(attention_prefill_v1<HD>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
  GP_LAUNCH(grid, kPrefillWarps * 32, smem, stream, attention_prefill_v1<HD>)(a);
}

}  // namespace

void attention_prefill(half* out, const half* q, const half* k_cache, const half* v_cache, int T,
                       int pos0, const AttentionShape& s, cudaStream_t stream) {
  check_shape("attention_prefill", s);
  GP_CHECK(T >= 0 && pos0 >= 0 && (int64_t)pos0 + T <= 0x7fffffff, "attention_prefill: ", T,
           " queries at position ", pos0, " unsupported");
  GP_CHECK(aligned16(q) && aligned16(k_cache) && aligned16(v_cache),
           "attention_prefill: q, k_cache and v_cache must be 16-byte aligned");
  if (T == 0) return;
  const PrefillArgs a{out, q, k_cache, v_cache, T, pos0, s.Hq, s.Hkv, s.hd, s.window,
                      (float)(1.0 / std::sqrt((double)s.hd))};
  const dim3 grid((unsigned)((T + kPrefillRows - 1) / kPrefillRows), (unsigned)s.Hq);
  switch (s.hd) {
    case 64: launch_prefill<64>(a, grid, stream); break;
    case 96: launch_prefill<96>(a, grid, stream); break;
    case 128: launch_prefill<128>(a, grid, stream); break;
    default: launch_prefill<0>(a, grid, stream); break;
  }
  GP_CUDA_CHECK(cudaGetLastError());
}

size_t attention_decode_partials_bytes(const AttentionShape& s, int max_ctx) {
  check_shape("attention_decode", s);
  GP_CHECK(max_ctx > 0, "attention_decode: max_ctx ", max_ctx, " must be positive");
  return sizeof(float) * (size_t)s.Hq * decode_splits(max_ctx) * (2 + s.hd);
}

void attention_decode(half* out, const half* q, const half* k_cache, const half* v_cache,
                      const int* d_pos0, int max_ctx, const AttentionShape& s, float* partials,
                      cudaStream_t stream) {
  check_shape("attention_decode", s);
  GP_CHECK(max_ctx > 0, "attention_decode: max_ctx ", max_ctx, " must be positive");
  GP_CHECK(d_pos0 != nullptr && partials != nullptr,
           "attention_decode: d_pos0 and partials must be device pointers");
  GP_CHECK(aligned16(q) && aligned16(k_cache) && aligned16(v_cache),
           "attention_decode: q, k_cache and v_cache must be 16-byte aligned");
  const int n_splits = decode_splits(max_ctx);
  const float scale = (float)(1.0 / std::sqrt((double)s.hd));
  const dim3 grid((unsigned)n_splits, (unsigned)s.Hq);
#define GP_DECODE(HD)                                                                          \
  GP_LAUNCH(grid, kDecodeSplit, 0, stream, attention_decode_v1<HD>)(partials, q, k_cache, v_cache,   \
                                                             d_pos0, max_ctx, n_splits, s.Hq, s.Hkv, \
                                                             s.hd, s.window, scale)
  switch (s.hd) {
    case 64: GP_DECODE(64); break;
    case 96: GP_DECODE(96); break;
    case 128: GP_DECODE(128); break;
    default: GP_DECODE(0); break;
  }
#undef GP_DECODE
  GP_CUDA_CHECK(cudaGetLastError());
  GP_LAUNCH((unsigned)s.Hq, 256, 0, stream, attention_decode_merge_v1)(out, partials, d_pos0, max_ctx,
                                                                n_splits, s.hd);
  GP_CUDA_CHECK(cudaGetLastError());
}

void kv_write(half* k_cache, half* v_cache, const half* k, const half* v, int T, int pos0,
              const int* d_pos0, int Hkv, int hd, cudaStream_t stream) {
  GP_CHECK(T >= 0 && Hkv > 0 && hd > 0 && hd % 8 == 0, "kv_write: ", T, " rows of ", Hkv,
           " heads x ", hd, " unsupported (hd must be a multiple of 8)");
  GP_CHECK(d_pos0 != nullptr || pos0 >= 0, "kv_write: position ", pos0, " is negative");
  GP_CHECK(aligned16(k_cache) && aligned16(v_cache) && aligned16(k) && aligned16(v),
           "kv_write: caches and rows must be 16-byte aligned");
  if (T == 0) return;
  const int64_t row16 = (int64_t)Hkv * hd / 8, n16 = row16 * T;
  const int threads = 256;
  const int64_t grid = (n16 + threads - 1) / threads;
  GP_CHECK(grid <= 0x7fffffff, "kv_write: ", T, " rows exceed one launch");
  GP_LAUNCH((unsigned)grid, threads, 0, stream, kv_write_v1)(
      reinterpret_cast<uint4*>(k_cache), reinterpret_cast<uint4*>(v_cache),
      reinterpret_cast<const uint4*>(k), reinterpret_cast<const uint4*>(v), n16, pos0, d_pos0, row16);
  GP_CUDA_CHECK(cudaGetLastError());
}

}  // namespace gp::cuda
