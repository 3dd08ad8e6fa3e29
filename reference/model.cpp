// model.cpp: the reference forward (model.h). One pass of the generation path:
//   embed -> [rmsnorm -> q,k,v -> rope -> cache -> attention -> o -> +res
//             -> rmsnorm -> gate,up -> swiglu -> down -> +res] x n_layers
//   -> final rmsnorm -> lm head
// All buffers float32, (tokens, features) row-major.
#include "reference/model.h"

#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "core/memory.h"
#include "reference/ops.h"

namespace gp::ref {
namespace {

// floats of scratch one forward of T tokens holds: x, xn, o, d (D); q, att (qdim);
// k, v (kvdim); g, u, h (ffn)
int64_t scratch_floats(const ModelConfig& c, int64_t T) {
  const int64_t qdim = (int64_t)c.n_heads * c.head_dim, kvdim = (int64_t)c.n_kv_heads * c.head_dim;
  return T * (4 * (int64_t)c.dim + 2 * qdim + 2 * kvdim + 3 * (int64_t)c.ffn_dim);
}

std::vector<float> to_f32(const TensorView& t) {
  std::vector<float> out(t.numel());
  dequantize_row(t.dtype, t.data, out.data(), t.numel());
  return out;
}

void linear(std::vector<float>& out, const std::vector<float>& x, const TensorView& w, int64_t T) {
  const int64_t N = w.shape[0], K = w.shape[1];
  out.assign(T * N, 0.0f);
  gp::ref::linear(out.data(), x.data(), w.dtype, w.data, T, K, N);
}

}  // namespace

ReferenceBackend::ReferenceBackend(const Model& m) : m_(m) {
  validate_model(m);
  for (const auto& l : m.layers) {
    attn_norm_.push_back(to_f32(l.attn_norm));
    ffn_norm_.push_back(to_f32(l.ffn_norm));
  }
  final_norm_ = to_f32(m.final_norm);
  k_cache_.resize(m.cfg.n_layers);
  v_cache_.resize(m.cfg.n_layers);
}

void ReferenceBackend::reset() {
  for (auto& c : k_cache_) c.clear();
  for (auto& c : v_cache_) c.clear();
  cached_ = 0;
}

int64_t ReferenceBackend::memory_bytes() const {
  int64_t kv = 0;
  for (const auto& c : k_cache_) kv += (int64_t)c.capacity() * 4;
  for (const auto& c : v_cache_) kv += (int64_t)c.capacity() * 4;
  return m_.weight_bytes() + kv + peak_scratch_;
}

void ReferenceBackend::grow(int64_t S, int64_t T) {
  const ModelConfig& c = m_.cfg;
  const int64_t kvdim = (int64_t)c.n_kv_heads * c.head_dim;
  const int64_t have = (int64_t)k_cache_[0].capacity() / kvdim;  // tokens the cache can hold now
  // the cache grows geometrically, up to the model's context
  const int64_t tokens = have >= S ? have : std::min<int64_t>(std::max<int64_t>(S, 2 * have), c.max_seq_len);
  // each part alone first (no overflow past these), then all together
  check_host_alloc(2 * (int64_t)c.n_layers * tokens, kvdim * 4, str("reference KV cache for ", tokens, " tokens"));
  check_host_alloc(T, 4 * scratch_floats(c, 1), str("reference scratch for a forward of ", T, " tokens"));
  const int64_t kv = 2 * (int64_t)c.n_layers * tokens * kvdim * 4, scratch = 4 * scratch_floats(c, T);
  const int64_t norms = 4 * (int64_t)c.dim * (2 * (int64_t)c.n_layers + 1), w = m_.weight_bytes();
  const long double total = (long double)w + norms + kv + scratch;
  check_host_alloc(total < (long double)INT64_MAX ? (int64_t)total : INT64_MAX,
                   str("reference backend: weights ", human_bytes(w), " + KV cache for ", tokens, " tokens ",
                       human_bytes(kv), " + scratch for ", T, " tokens ", human_bytes(scratch)));
  if (tokens == have) return;
  for (auto& l : k_cache_) l.reserve((size_t)(tokens * kvdim));
  for (auto& l : v_cache_) l.reserve((size_t)(tokens * kvdim));
}

void ReferenceBackend::forward(const int32_t* tokens, int n, int pos, float* logits,
                               bool all_logits) {
  const ModelConfig& c = m_.cfg;
  GP_CHECK(n > 0, "forward: no tokens");
  GP_CHECK(pos == cached_, "forward: KV cache holds ", cached_, " tokens, asked to continue at ", pos);
  GP_CHECK((int64_t)pos + n <= c.max_seq_len, "forward: positions up to ", pos + n,
           " exceed the model's context of ", c.max_seq_len);
  const int64_t T = n, D = c.dim, hd = c.head_dim, Hq = c.n_heads, Hkv = c.n_kv_heads;
  const int64_t qdim = Hq * hd, kvdim = Hkv * hd, S = pos + T;
  grow(S, T);
  auto tap = [&](int layer, const char* point, const std::vector<float>& v, int64_t cols) {
    if (sink_) sink_->on_activation(layer, point, v.data(), T, cols);
  };

  std::vector<int32_t> positions(T);
  for (int64_t t = 0; t < T; t++) positions[t] = (int32_t)(pos + t);

  std::vector<float> x(T * D);  // residual stream (T, D)
  embedding(x.data(), m_.tok_embd.dtype, m_.tok_embd.data, tokens, T, c.vocab_size, D);
  tap(-1, "embedding", x, D);

  std::vector<float> xn(T * D), q, k, v, att(T * qdim), o, g, u, h(T * c.ffn_dim), d;
  for (int l = 0; l < c.n_layers; l++) {
    const LayerWeights& w = m_.layers[l];
    rmsnorm(xn.data(), x.data(), attn_norm_[l].data(), T, D, c.rms_eps);
    tap(l, "attn_norm", xn, D);
    linear(q, xn, w.wq, T);  // (T, Hq*hd)
    linear(k, xn, w.wk, T);  // (T, Hkv*hd)
    linear(v, xn, w.wv, T);  // (T, Hkv*hd)
    tap(l, "q", q, qdim);
    tap(l, "k", k, kvdim);
    tap(l, "v", v, kvdim);
    rope(q.data(), q.data(), positions.data(), T, Hq, hd, c.rope_theta);
    rope(k.data(), k.data(), positions.data(), T, Hkv, hd, c.rope_theta);
    k_cache_[l].insert(k_cache_[l].end(), k.begin(), k.end());  // (S, Hkv*hd)
    v_cache_[l].insert(v_cache_[l].end(), v.begin(), v.end());
    attention(att.data(), q.data(), k_cache_[l].data(), v_cache_[l].data(), T, S, Hq, Hkv, hd, pos,
              c.sliding_window);
    linear(o, att, w.wo, T);  // (T, D)
    tap(l, "attn_out", o, D);
    add(x.data(), x.data(), o.data(), T * D);
    rmsnorm(xn.data(), x.data(), ffn_norm_[l].data(), T, D, c.rms_eps);
    tap(l, "ffn_norm", xn, D);
    linear(g, xn, w.w_gate, T);  // (T, F)
    linear(u, xn, w.w_up, T);    // (T, F)
    swiglu(h.data(), g.data(), u.data(), T * c.ffn_dim);
    linear(d, h, w.w_down, T);  // (T, D)
    tap(l, "ffn_out", d, D);
    add(x.data(), x.data(), d.data(), T * D);
    tap(l, "out", x, D);
  }
  cached_ = (int)S;

  rmsnorm(xn.data(), x.data(), final_norm_.data(), T, D, c.rms_eps);
  tap(-1, "final_norm", xn, D);
  const int64_t rows = all_logits ? T : 1;
  const float* last = xn.data() + (T - rows) * D;
  const int64_t V = m_.lm_head.shape[0];
  gp::ref::linear(logits, last, m_.lm_head.dtype, m_.lm_head.data, rows, D, V);

  const int64_t scratch =
      4 * (int64_t)(x.size() + xn.size() + q.size() + k.size() + v.size() + att.size() + o.size() +
                    g.size() + u.size() + h.size() + d.size());
  peak_scratch_ = std::max(peak_scratch_, scratch);
}

}  // namespace gp::ref
