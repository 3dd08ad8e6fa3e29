// ops.h: the naive CPU reference of every op of the generation path. This is
// the specification: plain loops, float32 storage, double accumulators for
// reductions. Outputs first, then inputs, then sizes (the CUDA versions in
// kernels/ take the same arguments in the same order).
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace gp::ref {

// table: (V, D) stored as `tt`, ids: (T) -> out: (T, D)
void embedding(float* out, DType tt, const uint8_t* table, const int32_t* ids, int64_t T, int64_t V,
               int64_t D);

// x: (T, D), weight: (D) -> out: (T, D); out = x / sqrt(mean(x^2) + eps) * weight
void rmsnorm(float* out, const float* x, const float* weight, int64_t T, int64_t D, double eps);

// x: (T, K), w: (N, K) stored as `wt` -> out: (T, N); out = x @ w^T
void linear(float* out, const float* x, DType wt, const uint8_t* w, int64_t T, int64_t K, int64_t N);

// x: (T, H, hd), positions: (T) -> out: (T, H, hd); rotate-half RoPE
// (transformers' convention: pairs (i, i + hd/2)), angles from core/rope.h.
// out may equal x.
void rope(float* out, const float* x, const int32_t* positions, int64_t T, int64_t H, int64_t hd,
          double theta);

// q: (T, Hq, hd), k, v: (S, Hkv, hd) -> out: (T, Hq, hd). Query row t sits at
// position q_pos0 + t, key j at position j; causal, optional sliding window
// (0 = none: key j visible iff j <= p and p - j < window), GQA (query head h
// reads kv head h / (Hq / Hkv)), scale 1/sqrt(hd).
void attention(float* out, const float* q, const float* k, const float* v, int64_t T, int64_t S,
               int64_t Hq, int64_t Hkv, int64_t hd, int64_t q_pos0, int64_t sliding_window);

// gate, up: (T, F) -> out: (T, F); out = silu(gate) * up
void swiglu(float* out, const float* gate, const float* up, int64_t n);

// a, b: (n) -> out: (n); out = a + b (the residual add)
void add(float* out, const float* a, const float* b, int64_t n);

// x: (T, N) -> out: (T, N); softmax over the last axis
void softmax(float* out, const float* x, int64_t T, int64_t N);

}  // namespace gp::ref
