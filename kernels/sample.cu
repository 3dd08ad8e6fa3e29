// sample.cu: the sampler on the GPU (kernels/ops.h, "sample" section). It
// gives the token core/sampler.cpp gives for the same logits, config and RNG
// state, bit for bit: the same GP_HD arithmetic (core/sampler_math.h) in the
// same order.
// v1: prepare (copy, repetition penalty on first occurrences, NaN check,
// temperature) -> greedy: one-block argmax; sampling: bitonic sort of
// (logit, id) over the whole padded vocabulary by candidate_before (a strict
// total order, so any sorting network yields the order std::sort yields),
// exp of every kept candidate in parallel, then thread 0 runs steps 6-8
// (sampler_pick) sequentially, as the CPU does.
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "core/sampler.h"
#include "core/sampler_math.h"
#include "kernels/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/ops.h"

namespace gp::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 2048;  // elements a block sorts in shared memory (kTile / 2 threads)
constexpr int kPickThreads = 1024;
constexpr int32_t kPadId = INT_MAX;  // pads sort after every real candidate

// the scratch layout, in order; each part 256-byte aligned
struct Scratch {
  float* keys;     // (P) logits, after penalty and temperature; pads -inf
  int32_t* ids;    // (P) candidate ids, sorted along with keys
  int32_t* first;  // (V) first history index of each id (repetition penalty)
  double* probs;   // (V) unnormalized probabilities in sorted order
  int* status;     // 0 ok, 1 a NaN logit or a history id outside the vocabulary
};

int64_t align256(int64_t b) { return (b + 255) / 256 * 256; }

int64_t padded(int vocab) {
  int64_t p = 1;
  while (p < vocab) p *= 2;
  return p;
}

Scratch carve(void* scratch, int vocab) {
  const int64_t P = padded(vocab);
  uint8_t* b = static_cast<uint8_t*>(scratch);
  Scratch s;
  s.keys = reinterpret_cast<float*>(b);
  b += align256(P * 4);
  s.ids = reinterpret_cast<int32_t*>(b);
  b += align256(P * 4);
  s.first = reinterpret_cast<int32_t*>(b);
  b += align256((int64_t)vocab * 4);
  s.probs = reinterpret_cast<double*>(b);
  b += align256((int64_t)vocab * 8);
  s.status = reinterpret_cast<int*>(b);
  return s;
}

__device__ bool before(float la, int32_t ia, float lb, int32_t ib) { return candidate_before(la, ia, lb, ib); }

// ---------------------------------------------------------------------------
// prepare

// keys = logits (pads -inf), ids = 0..P-1 (pads kPadId), first = INT_MAX, status = 0
__global__ void sample_copy_v1(Scratch s, const float* logits, int V, int64_t P) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i == 0) *s.status = 0;
  if (i >= P) return;
  s.keys[i] = i < V ? logits[i] : -INFINITY;
  s.ids[i] = i < V ? (int32_t)i : kPadId;
  if (i < V) s.first[i] = INT_MAX;
}

// history ids outside the vocabulary -> status 1; first[id] = first index of id
__global__ void sample_history_first_v1(Scratch s, const int32_t* history, int n, int V, bool penalize) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= n) return;
  const int32_t id = history[j];
  if (id < 0 || id >= V) {
    *s.status = 1;
    return;
  }
  if (penalize) atomicMin(&s.first[id], j);  // min: the same whatever the order
}

// the penalty, once per distinct id (by the thread of its first occurrence)
__global__ void sample_penalty_v1(Scratch s, const int32_t* history, int n, int V, float penalty) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= n) return;
  const int32_t id = history[j];
  if (id >= 0 && id < V && s.first[id] == j) s.keys[id] = repetition_penalize(s.keys[id], penalty);
}

// NaN -> status 1; then logits / temperature (temperature 0: greedy, unscaled)
__global__ void sample_scale_v1(Scratch s, int V, float temperature) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= V) return;
  const float k = s.keys[i];
  if (isnan(k)) *s.status = 1;
  if (temperature != 0.0f) s.keys[i] = k / temperature;
}

// ---------------------------------------------------------------------------
// greedy

// one block: the first id by candidate_before (highest logit, lowest id)
__global__ void sample_argmax_v1(int32_t* out_id, Scratch s, int V) {
  GP_SHARED(float, sk, [kPickThreads / 32]);
  GP_SHARED(int32_t, si, [kPickThreads / 32]);
  float bk = -INFINITY;
  int32_t bi = kPadId;
  for (int i = threadIdx.x; i < V; i += blockDim.x)
    if (before(s.keys[i], i, bk, bi)) bk = s.keys[i], bi = i;
  for (int o = 16; o > 0; o /= 2) {
    const float k = __shfl_xor_sync(0xffffffffu, bk, o);
    const int32_t i = __shfl_xor_sync(0xffffffffu, bi, o);
    if (before(k, i, bk, bi)) bk = k, bi = i;
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) sk[warp] = bk, si[warp] = bi;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < (int)blockDim.x / 32; w++)
      if (before(sk[w], si[w], bk, bi)) bk = sk[w], bi = si[w];
    *out_id = *s.status ? -1 : bi;  // no NaN: some real id beats the (-inf, kPadId) start
  }
}

// ---------------------------------------------------------------------------
// sort: bitonic network over P = 2^m elements, first-by-candidate_before
// ascending (segment direction from bit k of the index)

__device__ void compare_swap(float* keys, int32_t* ids, int64_t i, int64_t l, bool up) {
  const float ki = keys[i], kl = keys[l];
  const int32_t ii = ids[i], il = ids[l];
  if (up ? before(kl, il, ki, ii) : before(ki, ii, kl, il)) {
    keys[i] = kl, keys[l] = ki;
    ids[i] = il, ids[l] = ii;
  }
}

// one step of distance j >= kTile / 2 in global memory, one thread per pair
__global__ void bitonic_global_v1(float* keys, int32_t* ids, int64_t k, int64_t j, int64_t pairs) {
  const int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= pairs) return;
  const int64_t i = (t / j) * 2 * j + t % j;
  compare_swap(keys, ids, i, i + j, (i & k) == 0);
}

// every step with distance < tile inside one tile in shared memory: for k in
// [k_first, k_last] (powers of 2) and j from min(k/2, tile/2) down to 1
__global__ void bitonic_tile_v1(float* keys, int32_t* ids, int tile, int64_t k_first, int64_t k_last) {
  GP_SHARED(float, sk, [kTile]);
  GP_SHARED(int32_t, si, [kTile]);
  const int64_t base = (int64_t)blockIdx.x * tile;
  for (int e = threadIdx.x; e < tile; e += blockDim.x) sk[e] = keys[base + e], si[e] = ids[base + e];
  __syncthreads();
  for (int64_t k = k_first; k <= k_last; k *= 2) {
    for (int64_t j = (k / 2 < tile / 2 ? k / 2 : tile / 2); j > 0; j /= 2) {
      for (int t = threadIdx.x; t < tile / 2; t += blockDim.x) {
        const int i = (int)((t / j) * 2 * j + t % j);
        compare_swap(sk, si, i, i + j, ((base + i) & k) == 0);
      }
      __syncthreads();
    }
  }
  for (int e = threadIdx.x; e < tile; e += blockDim.x) keys[base + e] = sk[e], ids[base + e] = si[e];
}

// ---------------------------------------------------------------------------
// pick

// probabilities of the n kept candidates in parallel (each one independent),
// then thread 0 runs steps 6-8 in sorted order
__global__ void sample_pick_v1(int32_t* out_id, Scratch s, int n, float top_p, float min_p, uint64_t* rng_state) {
  if (*s.status) {  // the CPU sampler throws before drawing
    if (threadIdx.x == 0) *out_id = -1;
    return;
  }
  const double lmax = s.keys[0];
  for (int i = threadIdx.x; i < n; i += blockDim.x) s.probs[i] = sampler_exp((double)s.keys[i] - lmax);
  __syncthreads();
  if (threadIdx.x == 0) {
    uint64_t st = *rng_state;
    *out_id = s.ids[sampler_pick(s.probs, n, top_p, min_p, &st)];
    *rng_state = st;
  }
}

unsigned blocks_for(int64_t n, int threads) { return (unsigned)((n + threads - 1) / threads); }

}  // namespace

// ---------------------------------------------------------------------------
// launchers

size_t sample_scratch_bytes(int vocab) {
  GP_CHECK(vocab > 0 && vocab <= (1 << 30), "cuda sample: vocabulary size ", vocab, " is unsupported");
  const int64_t P = padded(vocab);
  return (size_t)(2 * align256(P * 4) + align256((int64_t)vocab * 4) + align256((int64_t)vocab * 8) +
                  align256(4));
}

void sample(int32_t* out_id, const float* logits, int vocab, const SamplerConfig& p,
            const int32_t* history, int n_history, uint64_t* rng_state, void* scratch,
            cudaStream_t stream) {
  validate(p);
  sample_scratch_bytes(vocab);  // checks vocab
  GP_CHECK(n_history >= 0, "cuda sample: negative history length ", n_history);
  GP_CHECK(out_id && logits && scratch && (n_history == 0 || history),
           "cuda sample: null pointer");
  const bool greedy = p.temperature == 0.0f;
  GP_CHECK(greedy || rng_state, "cuda sample: sampling needs rng_state");

  const int64_t P = padded(vocab);
  const Scratch s = carve(scratch, vocab);
  const bool penalize = p.repetition_penalty != 1.0f;
  GP_LAUNCH(blocks_for(P, kThreads), kThreads, 0, stream, sample_copy_v1)(s, logits, vocab, P);
  GP_CUDA_CHECK(cudaGetLastError());
  if (n_history > 0) {
    GP_LAUNCH(blocks_for(n_history, kThreads), kThreads, 0, stream, sample_history_first_v1)(
        s, history, n_history, vocab, penalize);
    GP_CUDA_CHECK(cudaGetLastError());
    if (penalize) {
      GP_LAUNCH(blocks_for(n_history, kThreads), kThreads, 0, stream, sample_penalty_v1)(
          s, history, n_history, vocab, p.repetition_penalty);
      GP_CUDA_CHECK(cudaGetLastError());
    }
  }
  GP_LAUNCH(blocks_for(vocab, kThreads), kThreads, 0, stream, sample_scale_v1)(s, vocab, p.temperature);
  GP_CUDA_CHECK(cudaGetLastError());
  if (greedy) {
    GP_LAUNCH(1, kPickThreads, 0, stream, sample_argmax_v1)(out_id, s, vocab);
    GP_CUDA_CHECK(cudaGetLastError());
    return;
  }

  // sort all P (top_k keeps a prefix of the full order, as partial_sort does)
  const int tile = (int)(P < kTile ? P : kTile);
  const int tile_threads = tile / 2 < 32 ? 32 : tile / 2;
  const unsigned n_tiles = (unsigned)(P / tile);
  if (P > 1) {
    GP_LAUNCH(n_tiles, tile_threads, 0, stream, bitonic_tile_v1)(s.keys, s.ids, tile, 2, tile);
    GP_CUDA_CHECK(cudaGetLastError());
  }
  for (int64_t k = 2 * (int64_t)tile; k <= P; k *= 2) {
    for (int64_t j = k / 2; j >= tile; j /= 2) {
      GP_LAUNCH(blocks_for(P / 2, kThreads), kThreads, 0, stream, bitonic_global_v1)(s.keys, s.ids, k, j, P / 2);
      GP_CUDA_CHECK(cudaGetLastError());
    }
    GP_LAUNCH(n_tiles, tile_threads, 0, stream, bitonic_tile_v1)(s.keys, s.ids, tile, k, k);
    GP_CUDA_CHECK(cudaGetLastError());
  }
  const int n = p.top_k > 0 && p.top_k < vocab ? p.top_k : vocab;
  GP_LAUNCH(1, kPickThreads, 0, stream, sample_pick_v1)(out_id, s, n, p.top_p, p.min_p, rng_state);
  GP_CUDA_CHECK(cudaGetLastError());
}

}  // namespace gp::cuda
