// memory_plan.cpp: memory plans and the cost model (memory_plan.h).
// The CUDA plans follow kernels/backend.cpp's allocations (weights, KV cache
// sized once by CudaBackend::reserve, activation buffers, cuBLAS and linear
// workspaces, attention partials, the device sampler's scratch); the CUDA
// context is an estimate (a typical value, not a measurement), measured by
// `goldpath bench` instead. Not planned: the workspace cuDNN's fused
// attention asks for ("cublas" prefill on sm_80+), known only once cuDNN
// has built the plan for a shape; bench's measured breakdown includes it.
#include "core/memory_plan.h"

#include <algorithm>

#include "core/error.h"
#include "core/memory.h"

namespace gp {
namespace {

constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kCudaContextBytes = 384 * kMiB;    // CUDA context + loaded kernels (estimate)
constexpr int64_t kCublasWorkspaceBytes = 32 * kMiB;  // the "cublas" backend's cuBLAS workspace
constexpr int64_t kDecodeSplit = 128;                 // keys per attention_decode split (kernels/attention.cu)
constexpr int64_t kMinCacheTokens = 64;               // the CUDA KV cache's smallest capacity

// "cuda-sim": kernels/ on the simulated device allocates what "cuda" does
bool is_cuda(const std::string& b) { return b == "cuda" || b == "cublas" || b == "cuda-sim"; }

void add(std::vector<WeightEntry>& w, const TensorView& t) { w.push_back({t.name, t.dtype, t.shape}); }

// floats of the per-token buffers of one forward: x, xn, o, d (D); q, att (qdim); k, v (kvdim); g, u, h (ffn)
int64_t floats_per_token(const ModelConfig& c) {
  const int64_t qdim = (int64_t)c.n_heads * c.head_dim, kvdim = (int64_t)c.n_kv_heads * c.head_dim;
  return 4 * (int64_t)c.dim + 2 * qdim + 2 * kvdim + 3 * (int64_t)c.ffn_dim;
}

}  // namespace

std::vector<WeightEntry> model_weights(const Model& m) {
  std::vector<WeightEntry> w;
  add(w, m.tok_embd);
  for (const auto& l : m.layers)
    for (const TensorView* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down})
      add(w, *t);
  add(w, m.final_norm);
  if (m.lm_head.data != m.tok_embd.data) add(w, m.lm_head);
  return w;
}

std::string MemoryPlan::breakdown() const {
  return str("weights ", human_bytes(weights), " + KV cache ", human_bytes(kv_cache), " (", context_tokens,
             " tokens) + activations ", human_bytes(activations), " (prefill of ", prefill_tokens,
             " tokens) + workspace ", human_bytes(workspace), " + context ", human_bytes(context));
}

MemoryPlan plan_memory(const std::string& backend, const ModelConfig& c, const std::vector<WeightEntry>& weights,
                       int64_t context_tokens, int64_t prefill_tokens) {
  GP_CHECK(backend == "reference" || is_cuda(backend), "no memory plan for backend '", backend, "'");
  GP_CHECK(context_tokens >= 0 && prefill_tokens >= 0, "memory plan: negative token count");
  MemoryPlan p;
  p.backend = backend;
  p.context_tokens = context_tokens;
  p.prefill_tokens = prefill_tokens;
  const int64_t kvdim = (int64_t)c.n_kv_heads * c.head_dim;
  int64_t largest_quantized = 0;  // elements of the largest block-quantized matrix
  for (const auto& w : weights) {
    const bool matrix = w.shape.size() == 2;
    if (is_cuda(backend))  // matrices: f32/bf16 -> f16, others as stored; norm vectors: f32
      p.weights += !matrix ? 4 * w.numel() : (w.dtype == DType::F32 || w.dtype == DType::BF16) ? 2 * w.numel() : w.nbytes();
    else
      p.weights += w.nbytes();
    if (matrix && dtype_is_quantized(w.dtype)) largest_quantized = std::max(largest_quantized, w.numel());
  }
  if (backend == "reference") {
    p.weights += 4 * (int64_t)c.dim * (2 * (int64_t)c.n_layers + 1);  // f32 copies of the norm weights
    p.kv_bytes_per_token = 2 * (int64_t)c.n_layers * kvdim * 4;
    // f32 buffers of the forward, the last token's logits, one row of attention scores (double)
    p.activations = 4 * prefill_tokens * floats_per_token(c) + 4 * (int64_t)c.vocab_size + 8 * context_tokens;
    p.kv_cache = context_tokens * p.kv_bytes_per_token;
  } else {
    p.kv_bytes_per_token = 2 * (int64_t)c.n_layers * kvdim * 2;  // K and V, f16
    // CudaBackend::reserve(context, prefill): a cache of at least 64 positions, at most the model's context
    const int64_t cap = std::min<int64_t>(std::max<int64_t>(context_tokens, kMinCacheTokens), c.max_seq_len);
    p.kv_cache = context_tokens > 0 ? cap * p.kv_bytes_per_token : 0;
    // per token: ids (i32), residual x (f32), xn, q, k, v, att, o, gate, up, h (f16), logits (f32)
    const int64_t D = c.dim, q = (int64_t)c.n_heads * c.head_dim, F = c.ffn_dim, V = c.vocab_size;
    p.activations = prefill_tokens * (4 + 4 * D + 2 * (D + q + 2 * kvdim + q + D + 3 * F) + 4 * V);
    // attention_decode partials (Hq, splits, 2 + hd) f32 for the cache's capacity
    if (context_tokens > 0) p.workspace = 4 * (int64_t)c.n_heads * ((cap + kDecodeSplit - 1) / kDecodeSplit) * (2 + c.head_dim);
    // the device sampler's scratch (kernels/sample.cu sample_scratch_bytes): keys and ids over the
    // vocabulary padded to a power of two, the logits, the probabilities (f64), a status word;
    // plus the sampled id and RNG state
    int64_t Vp = 1;
    while (Vp < V) Vp *= 2;
    auto a256 = [](int64_t b) { return (b + 255) / 256 * 256; };
    p.workspace += 2 * a256(4 * Vp) + a256(4 * V) + a256(8 * V) + a256(4) + 16;
    if (backend == "cublas")  // its workspace, and quantized weights expanded to f16 one matrix at a time
      p.workspace += kCublasWorkspaceBytes + 2 * largest_quantized;
    p.context = kCudaContextBytes;
  }
  return p;
}

int64_t max_context_in_budget(const std::string& backend, const ModelConfig& cfg,
                              const std::vector<WeightEntry>& weights, int64_t prefill_tokens, int64_t budget) {
  // the plan is affine in the context: fixed + n * per_token (cublas' scores only beyond the prefill)
  int64_t lo = 0, hi = cfg.max_seq_len;
  if (plan_memory(backend, cfg, weights, 0, prefill_tokens).total() > budget) return 0;
  while (lo < hi) {  // largest n with total(n) <= budget
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (plan_memory(backend, cfg, weights, mid, prefill_tokens).total() <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

void check_memory_budget(const MemoryPlan& p, int64_t budget, const std::string& what) {
  if (p.total() <= budget) return;
  fail(what, " on ", p.backend, " needs ", human_bytes(p.total()), " but the memory budget allows ",
       human_bytes(budget), ": ", p.breakdown());
}

const DeviceProfile& t4_profile() {
  static const DeviceProfile t4{"t4", 15360 * kMiB, 320e9, 65e12};
  return t4;
}

const DeviceProfile& device_profile(const std::string& name) {
  if (name == "t4") return t4_profile();
  fail("--profile ", name, " is unknown (known: t4)");
}

double decode_bytes_per_token(const MemoryPlan& p, int64_t depth) {
  return (double)p.weights + (double)depth * p.kv_bytes_per_token;
}

double forward_flops(const ModelConfig& c, int64_t n, int64_t depth) {
  const double D = c.dim, q = (double)c.n_heads * c.head_dim, kv = (double)c.n_kv_heads * c.head_dim;
  const double per_layer = D * q + 2 * D * kv + q * D + 3 * D * c.ffn_dim;  // weights each token multiplies
  double f = 2.0 * n * per_layer * c.n_layers + 2.0 * D * c.vocab_size;   // the head for the last token
  // attention: q.k and p.v, 2 * hd FLOPs each per (query head, key); keys of token t: depth + t + 1
  double keys = 0;
  for (int64_t t = 0; t < n; t++) {
    const int64_t s = depth + t + 1;
    keys += c.sliding_window > 0 ? std::min<int64_t>(s, c.sliding_window) : s;
  }
  f += 4.0 * c.n_heads * c.head_dim * keys * c.n_layers;
  return f;
}

double projected_forward_s(const MemoryPlan& p, const ModelConfig& c, int64_t n, int64_t depth, double bw,
                           double flops) {
  const double bytes = (double)p.weights + (double)(depth + n) * p.kv_bytes_per_token;
  return std::max(bytes / bw, forward_flops(c, n, depth) / flops);
}

}  // namespace gp
