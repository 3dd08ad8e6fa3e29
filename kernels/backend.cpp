// backend.cpp: the CUDA model forward (backend.h). The op sequence is the
// reference's (reference/model.cpp) line for line:
//   embed -> [rmsnorm -> q,k,v -> rope -> cache -> attention -> o -> +res
//             -> rmsnorm -> gate,up -> swiglu -> down -> +res] x n_layers
//   -> final rmsnorm -> lm head
// A forward of several tokens is a sequence of ordinary launches; a decode
// step (one token) is captured once into a CUDA graph whose kernels read the
// position from a device int, so the same graph serves every position until
// a buffer it points into is reallocated (the KV cache grows), when it is
// captured again.
#include "kernels/backend.h"

#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/rope.h"
#include "core/memory.h"
#include "core/quant.h"
#include "kernels/cuda_check.h"
#include "kernels/device.h"

namespace gp::cuda {
namespace {

// cuBLAS's recommended workspace for graph capture on Hopper (smaller GPUs need less)
constexpr size_t kCublasWorkspace = 32u << 20;
// values converted to f16 per host staging chunk when uploading f32/bf16 weights
constexpr int64_t kConvertChunk = 1 << 22;

}  // namespace

// ---------------------------------------------------------------------------
// construction: weights uploaded once, on stream_ (non-blocking, so a plain
// cudaMemcpy on the legacy stream would not be ordered before its kernels)

CudaBackend::CudaBackend(const Model& m, Flavor f) : m_(m), flavor_(f) {
  const std::string refused = flavor_unavailable(f);
  GP_CHECK(refused.empty(), refused);
  std::string why;
  GP_CHECK(device_count(&why) > 0, "CUDA backend: ", why);
  validate_model(m);
  const ModelConfig& c = m.cfg;
  GP_CHECK(c.head_dim % 8 == 0 && c.head_dim <= 256, "CUDA backend: head size ", c.head_dim,
           " is unsupported (the attention kernels need a multiple of 8, at most 256)");
  GP_CHECK(c.n_kv_heads > 0 && c.n_heads % c.n_kv_heads == 0, "CUDA backend: ", c.n_heads,
           " query heads are not a multiple of ", c.n_kv_heads, " kv heads");
  GP_CHECK(c.max_seq_len > 0, "CUDA backend: the model's context length is ", c.max_seq_len);

  alloc_ = std::make_unique<DeviceAllocator>();
  GP_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  try {
    if (flavor_ == Flavor::Cublas) {
      GP_CUBLAS_CHECK(cublasCreate(&cublas_));
      GP_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
      // cuBLAS must not allocate while a decode step is captured: give it its workspace
      cublas_ws_ = DeviceBuffer(*alloc_, kCublasWorkspace, MemCategory::Workspace, "cuBLAS workspace");
      GP_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_ws_.get(), cublas_ws_.bytes()));
      // prefill attention through cuDNN's fused attention where this device and build have it
      int device = 0;
      GP_CUDA_CHECK(cudaGetDevice(&device));
      cudnn_attention_why_ = attention_cudnn_unsupported(AttentionShape{c.n_heads, c.n_kv_heads, c.head_dim,
                                                                        c.sliding_window}, device);
      if (cudnn_attention_why_.empty()) cudnn_ = process_cudnn_handle();
    }

    tok_embd_ = upload_weight(m.tok_embd, "token embedding");
    if (m.lm_head.data == m.tok_embd.data && m.lm_head.dtype == m.tok_embd.dtype &&
        m.lm_head.shape == m.tok_embd.shape)
      lm_head_ = tok_embd_;  // tied: one copy
    else
      lm_head_ = upload_weight(m.lm_head, "lm_head");
    final_norm_ = upload_norm(m.final_norm, "final norm");
    for (int l = 0; l < c.n_layers; l++) {
      const LayerWeights& w = m.layers[l];
      const std::string p = str("layer ", l, " ");
      Layer L;
      L.attn_norm = upload_norm(w.attn_norm, p + "attn_norm");
      L.ffn_norm = upload_norm(w.ffn_norm, p + "ffn_norm");
      L.wq = upload_weight(w.wq, p + "wq");
      L.wk = upload_weight(w.wk, p + "wk");
      L.wv = upload_weight(w.wv, p + "wv");
      L.wo = upload_weight(w.wo, p + "wo");
      L.w_gate = upload_weight(w.w_gate, p + "w_gate");
      L.w_up = upload_weight(w.w_up, p + "w_up");
      L.w_down = upload_weight(w.w_down, p + "w_down");
      layers_.push_back(L);
    }

    // RoPE frequencies as the reference computes them (float32, like transformers)
    const std::vector<float> inv = rope_inv_freq(c.head_dim, c.rope_theta);
    inv_freq_ = DeviceBuffer(*alloc_, inv.size() * 4, MemCategory::Other, "RoPE inverse frequencies");
    GP_CUDA_CHECK(cudaMemcpyAsync(inv_freq_.get(), inv.data(), inv.size() * 4, cudaMemcpyHostToDevice, stream_));
    GP_CUDA_CHECK(cudaStreamSynchronize(stream_));  // before inv goes away, and every weight copy is done

    // linear scratch: the most any weight needs (cuBLAS dequantizes quantized weights into it)
    linear_ws_bytes_ = linear_workspace_bytes(lm_head_, algo());
    for (const Layer& L : layers_)
      for (const DeviceWeight* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
        linear_ws_bytes_ = std::max(linear_ws_bytes_, linear_workspace_bytes(*w, algo()));
    if (linear_ws_bytes_ > 0)
      linear_ws_ = DeviceBuffer(*alloc_, linear_ws_bytes_, MemCategory::Workspace, "linear workspace");

    pos0_ = DeviceBuffer(*alloc_, sizeof(int), MemCategory::Other, "decode position");
    bad_id_ = DeviceBuffer(*alloc_, sizeof(int), MemCategory::Other, "bad token flag");
    k_cache_.resize(c.n_layers);
    v_cache_.resize(c.n_layers);
  } catch (...) {
    if (cublas_) cublasDestroy(cublas_);
    cudaStreamDestroy(stream_);
    throw;
  }
}

CudaBackend::~CudaBackend() {
  // no throwing from here: errors are ignored, the buffers are freed by their owners
  if (stream_) cudaStreamSynchronize(stream_);
  drop_graph();
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
  cudaGetLastError();
}

DeviceWeight CudaBackend::upload_weight(const TensorView& t, const std::string& what) {
  GP_CHECK(t.shape.size() == 2 && t.shape[0] > 0 && t.shape[1] > 0, "CUDA backend: ", what, " (",
           t.name, ") is not a matrix");
  const int64_t rows = t.shape[0], cols = t.shape[1], n = rows * cols;
  GP_CHECK(t.nbytes == rows * dtype_row_bytes(t.dtype, cols), "CUDA backend: ", what, " (", t.name,
           ") holds ", t.nbytes, " bytes, (", rows, ", ", cols, ") ", dtype_name(t.dtype), " needs ",
           rows * dtype_row_bytes(t.dtype, cols));
  DeviceWeight w;
  w.rows = rows;
  w.cols = cols;
  switch (t.dtype) {
    case DType::F16:
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_1: {
      w.dtype = t.dtype;
      weight_bufs_.emplace_back(*alloc_, (size_t)t.nbytes, MemCategory::Weights, what);
      // the model's bytes outlive the copy; the constructor waits for it before returning
      GP_CUDA_CHECK(cudaMemcpyAsync(weight_bufs_.back().get(), t.data, (size_t)t.nbytes, cudaMemcpyHostToDevice,
                                    stream_));
      break;
    }
    case DType::F32:
    case DType::BF16: {
      // converted to f16 in chunks; a value beyond f16's range would become inf
      w.dtype = DType::F16;
      weight_bufs_.emplace_back(*alloc_, (size_t)(n * 2), MemCategory::Weights, what);
      uint8_t* dst = weight_bufs_.back().as<uint8_t>();
      const int64_t esz = t.dtype == DType::F32 ? 4 : 2;
      std::vector<float> f32(std::min(n, kConvertChunk));
      std::vector<uint16_t> f16(f32.size());
      int64_t overflow = 0;
      float worst = 0;
      for (int64_t i0 = 0; i0 < n; i0 += kConvertChunk) {
        const int64_t k = std::min(kConvertChunk, n - i0);
        dequantize_row(t.dtype, t.data + i0 * esz, f32.data(), k);
        for (int64_t i = 0; i < k; i++) {
          f16[i] = gp::f32_to_f16(f32[i]);
          if (std::isfinite(f32[i]) && (f16[i] & 0x7c00u) == 0x7c00u) {
            overflow++;
            worst = std::max(worst, std::fabs(f32[i]));
          }
        }
        GP_CUDA_CHECK(cudaMemcpyAsync(dst + i0 * 2, f16.data(), (size_t)k * 2, cudaMemcpyHostToDevice, stream_));
        GP_CUDA_CHECK(cudaStreamSynchronize(stream_));  // before the next chunk overwrites f16
      }
      if (overflow > 0)
        fail("CUDA backend: ", what, " (", t.name, ", ", dtype_name(t.dtype), ") has ", overflow, " of ", n,
             " values beyond float16's range (largest |value| ", worst,
             " > 65504); the CUDA backends store weights as float16 and cannot run this model");
      break;
    }
  }
  w.data = weight_bufs_.back().as<const uint8_t>();
  return w;
}

const float* CudaBackend::upload_norm(const TensorView& t, const std::string& what) {
  const int64_t n = t.numel();
  GP_CHECK(n == m_.cfg.dim, "CUDA backend: ", what, " (", t.name, ") has ", n, " values, the model's dim is ",
           m_.cfg.dim);
  std::vector<float> f(n);
  dequantize_row(t.dtype, t.data, f.data(), n);
  weight_bufs_.emplace_back(*alloc_, (size_t)n * 4, MemCategory::Weights, what);
  GP_CUDA_CHECK(cudaMemcpyAsync(weight_bufs_.back().get(), f.data(), (size_t)n * 4, cudaMemcpyHostToDevice, stream_));
  GP_CUDA_CHECK(cudaStreamSynchronize(stream_));  // before f goes away
  return weight_bufs_.back().as<const float>();
}

// ---------------------------------------------------------------------------
// buffers

void CudaBackend::drop_graph() {
  if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
  graph_exec_ = nullptr;
}

void CudaBackend::ensure_cache(int tokens) {
  const ModelConfig& c = m_.cfg;
  GP_CHECK(tokens > 0 && tokens <= c.max_seq_len, "CUDA backend: a KV cache of ", tokens,
           " positions is outside the model's context of ", c.max_seq_len);
  if (tokens <= cache_cap_) return;
  // geometric growth up to the model's context, so a decode loop reallocates rarely
  const int cap = (int)std::min<int64_t>(std::max<int64_t>({(int64_t)tokens, 2 * (int64_t)cache_cap_, 64}),
                                         c.max_seq_len);
  const size_t row = (size_t)c.n_kv_heads * c.head_dim * sizeof(half);
  drop_graph();
  GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
  for (int l = 0; l < c.n_layers; l++) {
    for (auto* cache : {&k_cache_, &v_cache_}) {
      DeviceBuffer nb(*alloc_, (size_t)cap * row, MemCategory::KvCache,
                      str("layer ", l, cache == &k_cache_ ? " K" : " V", " cache for ", cap, " tokens"));
      if (cached_ > 0)
        GP_CUDA_CHECK(cudaMemcpyAsync(nb.get(), (*cache)[l].get(), (size_t)cached_ * row,
                                      cudaMemcpyDeviceToDevice, stream_));
      GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
      (*cache)[l] = std::move(nb);  // the old one is freed here
    }
  }
  cache_cap_ = cap;
  AttentionShape as{c.n_heads, c.n_kv_heads, c.head_dim, c.sliding_window};
  partials_.reset();
  const size_t pb = attention_decode_partials_bytes(as, cache_cap_);
  if (pb > 0)
    partials_ = DeviceBuffer(*alloc_, pb, MemCategory::Workspace, str("attention partials for ", cap, " tokens"));
}

void CudaBackend::ensure_activations(int T) {
  GP_CHECK(T > 0, "CUDA backend: a forward of ", T, " tokens");
  if (T <= act_cap_) return;
  const ModelConfig& c = m_.cfg;
  drop_graph();
  GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
  const size_t t = (size_t)T, D = c.dim, q = (size_t)c.n_heads * c.head_dim,
               kv = (size_t)c.n_kv_heads * c.head_dim, F = c.ffn_dim, V = c.vocab_size;
  const std::string per = str(" for ", T, " tokens");
  auto make = [&](DeviceBuffer& b, size_t bytes, const char* what) {
    b.reset();
    b = DeviceBuffer(*alloc_, bytes, MemCategory::Activations, what + per);
  };
  make(ids_, t * 4, "token ids");
  make(x_, t * D * 4, "residual stream");
  make(xn_, t * D * 2, "normed activations");
  make(q_, t * q * 2, "q");
  make(k_, t * kv * 2, "k");
  make(v_, t * kv * 2, "v");
  make(att_, t * q * 2, "attention output");
  make(o_, t * D * 2, "projection output");
  make(g_, t * F * 2, "gate");
  make(u_, t * F * 2, "up");
  make(h_, t * F * 2, "swiglu output");
  make(logits_, t * V * 4, "logits");
  act_cap_ = T;
}

void CudaBackend::reserve(int tokens, int max_tokens) {
  ensure_cache(tokens);
  ensure_activations(max_tokens);
}

MemoryUse CudaBackend::memory_use() const {
  const MemoryReport r = alloc_->report();
  MemoryUse u;
  for (int c = 0; c < kMemCategories; c++)
    u.peak_by_category.emplace_back(mem_category_name((MemCategory)c), r.peak[c]);
  u.peak_bytes = r.total_peak;
  u.current_bytes = r.total_current;
  u.context_bytes = r.context_overhead;
  size_t free_b = 0, total_b = 0;
  GP_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  u.device_in_use_bytes = (int64_t)total_b - (int64_t)free_b;
  return u;
}

void CudaBackend::reset() {
  cached_ = 0;
  kept_ = false;
}

// ---------------------------------------------------------------------------
// forward

void CudaBackend::linear_f16(half* out, const half* x, const DeviceWeight& w, int T) {
  linear(out, nullptr, x, w, T, algo(), linear_ws_.get(), cublas_, stream_);
}

bool CudaBackend::attention_prefill_vendor(half* out, const half* q, const half* kc, const half* vc, int T, int pos,
                                           const AttentionShape& as) {
  size_t ws = 0;
  const std::string why = attention_prefill_cudnn_plan(T, pos, as, cudnn_, &ws);
  if (!why.empty()) {
    if (cudnn_refused_.empty())
      cudnn_refused_ = str("cuDNN refused a prefill of ", T, " tokens at position ", pos, " (", why,
                           "): goldpath's kernel ran prefill attention for it and any other shape cuDNN refused");
    return false;
  }
  if (ws > cudnn_ws_.bytes()) {  // prefill runs as ordinary launches (never captured): growing here is safe
    GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
    cudnn_ws_.reset();
    cudnn_ws_ = DeviceBuffer(*alloc_, ws, MemCategory::Workspace, "cuDNN attention workspace");
  }
  attention_prefill_cudnn(out, q, kc, vc, T, pos, as, cudnn_ws_.get(), cudnn_ws_.bytes(), cudnn_, stream_);
  return true;
}

void CudaBackend::tap(int layer, const char* point, const void* dev, bool is_f16, int64_t rows, int64_t cols) {
  if (!sink_) return;
  const int64_t n = rows * cols;
  std::vector<float> host(n);
  if (is_f16) {
    std::vector<uint16_t> h(n);
    GP_CUDA_CHECK(cudaMemcpyAsync(h.data(), dev, (size_t)n * 2, cudaMemcpyDeviceToHost, stream_));
    GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
    for (int64_t i = 0; i < n; i++) host[i] = gp::f16_to_f32(h[i]);
  } else {
    GP_CUDA_CHECK(cudaMemcpyAsync(host.data(), dev, (size_t)n * 4, cudaMemcpyDeviceToHost, stream_));
    GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  sink_->on_activation(layer, point, host.data(), rows, cols);
}

void CudaBackend::enqueue_forward(int T, int pos, int rows, bool decode) {
  const ModelConfig& c = m_.cfg;
  const int D = c.dim, Hq = c.n_heads, Hkv = c.n_kv_heads, hd = c.head_dim, F = c.ffn_dim;
  const int64_t qdim = (int64_t)Hq * hd, kvdim = (int64_t)Hkv * hd;
  const AttentionShape as{Hq, Hkv, hd, c.sliding_window};
  const float eps = (float)c.rms_eps;
  float* x = x_.as<float>();
  half *xn = xn_.as<half>(), *q = q_.as<half>(), *k = k_.as<half>(), *v = v_.as<half>();
  half *att = att_.as<half>(), *o = o_.as<half>(), *g = g_.as<half>(), *u = u_.as<half>(), *h = h_.as<half>();
  const int* d_pos0 = pos0_.as<const int>();

  embedding(x, tok_embd_, ids_.as<const int32_t>(), T, bad_id_.as<int>(), stream_);  // (T, D) f32
  tap(-1, "embedding", x, false, T, D);
  for (int l = 0; l < c.n_layers; l++) {
    const Layer& L = layers_[l];
    half *kc = k_cache_[l].as<half>(), *vc = v_cache_[l].as<half>();  // (S_cap, Hkv, hd)
    rmsnorm(xn, x, nullptr, L.attn_norm, T, D, eps, stream_);
    tap(l, "attn_norm", xn, true, T, D);
    linear_f16(q, xn, L.wq, T);  // (T, Hq*hd)
    linear_f16(k, xn, L.wk, T);  // (T, Hkv*hd)
    linear_f16(v, xn, L.wv, T);  // (T, Hkv*hd)
    tap(l, "q", q, true, T, qdim);
    tap(l, "k", k, true, T, kvdim);
    tap(l, "v", v, true, T, kvdim);
    rope(q, nullptr, d_pos0, inv_freq_.as<const float>(), T, Hq, hd, stream_);
    rope(k, nullptr, d_pos0, inv_freq_.as<const float>(), T, Hkv, hd, stream_);
    kv_write(kc, vc, k, v, T, pos, decode ? d_pos0 : nullptr, Hkv, hd, stream_);
    if (decode)
      attention_decode(att, q, kc, vc, d_pos0, cache_cap_, as, partials_.as<float>(), stream_);
    else if (!cudnn_ || !attention_prefill_vendor(att, q, kc, vc, T, pos, as))
      attention_prefill(att, q, kc, vc, T, pos, as, stream_);
    linear_f16(o, att, L.wo, T);  // (T, D)
    tap(l, "attn_out", o, true, T, D);
    add_residual(x, o, (int64_t)T * D, stream_);
    rmsnorm(xn, x, nullptr, L.ffn_norm, T, D, eps, stream_);
    tap(l, "ffn_norm", xn, true, T, D);
    linear_f16(g, xn, L.w_gate, T);  // (T, F)
    linear_f16(u, xn, L.w_up, T);    // (T, F)
    swiglu(h, g, u, T, F, F, stream_);
    linear_f16(o, h, L.w_down, T);  // (T, D)
    tap(l, "ffn_out", o, true, T, D);
    add_residual(x, o, (int64_t)T * D, stream_);
    tap(l, "out", x, false, T, D);
  }
  rmsnorm(xn, x, nullptr, final_norm_, T, D, eps, stream_);
  tap(-1, "final_norm", xn, true, T, D);
  const half* last = xn + (int64_t)(T - rows) * D;
  linear(nullptr, logits_.as<float>(), last, lm_head_, rows, algo(), linear_ws_.get(), cublas_, stream_);
}

void CudaBackend::forward(const int32_t* tokens, int n, int pos, float* logits, bool all_logits) {
  GP_CHECK(logits, "forward: no logits buffer");
  run_forward(tokens, n, pos, all_logits ? n : 1, logits);
}

void CudaBackend::forward_for_sampling(const int32_t* tokens, int n, int pos) {
  run_forward(tokens, n, pos, 1, nullptr);
  kept_ = true;
}

void CudaBackend::run_forward(const int32_t* tokens, int n, int pos, int rows, float* logits) {
  const ModelConfig& c = m_.cfg;
  kept_ = false;
  GP_CHECK(n > 0 && tokens, "forward: no tokens");
  GP_CHECK(pos == cached_, "forward: KV cache holds ", cached_, " tokens, asked to continue at ", pos);
  GP_CHECK((int64_t)pos + n <= c.max_seq_len, "forward: positions up to ", (int64_t)pos + n,
           " exceed the model's context of ", c.max_seq_len);
  for (int i = 0; i < n; i++)
    GP_CHECK(tokens[i] >= 0 && tokens[i] < c.vocab_size, "forward: token id ", tokens[i], " at ", i,
             " is outside the vocabulary of ", c.vocab_size);
  const int64_t V = c.vocab_size;
  ensure_cache(pos + n);
  ensure_activations(n);

  const int zero = 0;
  GP_CUDA_CHECK(cudaMemcpyAsync(ids_.get(), tokens, (size_t)n * 4, cudaMemcpyHostToDevice, stream_));
  GP_CUDA_CHECK(cudaMemcpyAsync(pos0_.get(), &pos, sizeof(int), cudaMemcpyHostToDevice, stream_));
  GP_CUDA_CHECK(cudaMemcpyAsync(bad_id_.get(), &zero, sizeof(int), cudaMemcpyHostToDevice, stream_));
  // the copies above read pageable host memory: they are done before cudaMemcpyAsync returns
  const bool graph = use_graphs_ && n == 1 && !sink_;
  if (graph) {
    if (!graph_exec_) {
      cudaGraph_t g = nullptr;
      GP_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
      try {
        enqueue_forward(1, pos, 1, true);
      } catch (...) {
        cudaStreamEndCapture(stream_, &g);  // leaves the stream usable
        if (g) cudaGraphDestroy(g);
        cudaGetLastError();
        throw;
      }
      GP_CUDA_CHECK(cudaStreamEndCapture(stream_, &g));
      const cudaError_t e = cudaGraphInstantiate(&graph_exec_, g, 0);
      cudaGraphDestroy(g);
      if (e != cudaSuccess) graph_exec_ = nullptr;
      GP_CUDA_CHECK(e);
      graph_captures_++;
    }
    GP_CUDA_CHECK(cudaGraphLaunch(graph_exec_, stream_));
  } else {
    enqueue_forward(n, pos, rows, n == 1);
  }
  int bad = 0;
  if (logits)
    GP_CUDA_CHECK(cudaMemcpyAsync(logits, logits_.get(), (size_t)rows * V * 4, cudaMemcpyDeviceToHost, stream_));
  GP_CUDA_CHECK(cudaMemcpyAsync(&bad, bad_id_.get(), sizeof(int), cudaMemcpyDeviceToHost, stream_));
  GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
  GP_CUDA_CHECK(cudaGetLastError());
  GP_CHECK(bad == 0, "forward: the embedding kernel saw token id out of range at row ", bad - 1);
  cached_ = pos + n;
}

int32_t CudaBackend::sample_next(Sampler& sampler, const std::vector<int32_t>& history, float* logits) {
  const ModelConfig& c = m_.cfg;
  const int V = c.vocab_size;
  GP_CHECK(kept_, name(), ": sample_next without a forward_for_sampling before it");
  GP_CHECK(sampler.vocab_size() == V, name(), ": the sampler is for ", sampler.vocab_size(),
           " tokens, the model has ", V);
  kept_ = false;
  const SamplerConfig& sc = sampler.config();
  // the CPU sampler's checks that do not need the logits, with its words
  for (int32_t id : history)
    GP_CHECK(id >= 0 && id < V, "sampler: history id ", id, " outside the vocabulary");
  const bool penalize = sc.repetition_penalty != 1.0f;
  const int n_hist = penalize ? (int)history.size() : 0;
  if (!sample_scratch_) {
    sample_scratch_ = DeviceBuffer(*alloc_, sample_scratch_bytes(V), MemCategory::Workspace, "sampler scratch");
    sample_io_ = DeviceBuffer(*alloc_, 16, MemCategory::Workspace, "sampled id and RNG state");
  }
  if (n_hist > 0 && history_.bytes() < (size_t)n_hist * 4) {
    GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
    history_.reset();
    const size_t n = (size_t)std::max<int64_t>(n_hist, c.max_seq_len);
    history_ = DeviceBuffer(*alloc_, n * 4, MemCategory::Workspace, str("sampler history of ", n, " ids"));
  }
  struct {
    int32_t id;
    int32_t pad;
    uint64_t rng;
  } io{-1, 0, sampler.rng_state()};
  static_assert(sizeof(io) == 16, "sample_io_ layout");
  // pageable host memory: the copies are done when cudaMemcpyAsync returns
  GP_CUDA_CHECK(cudaMemcpyAsync(sample_io_.get(), &io, sizeof(io), cudaMemcpyHostToDevice, stream_));
  if (n_hist > 0)
    GP_CUDA_CHECK(cudaMemcpyAsync(history_.get(), history.data(), (size_t)n_hist * 4, cudaMemcpyHostToDevice, stream_));
  char* io_dev = sample_io_.as<char>();
  sample(reinterpret_cast<int32_t*>(io_dev), logits_.as<const float>(), V, sc, history_.as<const int32_t>(),
         n_hist, reinterpret_cast<uint64_t*>(io_dev + 8), sample_scratch_.get(), stream_);
  if (logits)
    GP_CUDA_CHECK(cudaMemcpyAsync(logits, logits_.get(), (size_t)V * 4, cudaMemcpyDeviceToHost, stream_));
  GP_CUDA_CHECK(cudaMemcpyAsync(&io, sample_io_.get(), sizeof(io), cudaMemcpyDeviceToHost, stream_));
  GP_CUDA_CHECK(cudaStreamSynchronize(stream_));
  GP_CUDA_CHECK(cudaGetLastError());
  // with the history checked above, the kernels refuse only a NaN logit
  GP_CHECK(io.id >= 0 && io.id < V, "sampler: a logit is NaN (", name(), " backend, sampled on the device)");
  sampler.set_rng_state(io.rng);
  return io.id;
}

}  // namespace gp::cuda
