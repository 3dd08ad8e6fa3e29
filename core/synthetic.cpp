// synthetic.cpp: synthetic models (synthetic.h). Shapes from the checkpoints'
// config.json files; weights from a counter-based generator (SplitMix64 of
// seed, tensor and chunk), so each 64 Ki-value chunk is generated on its own
// by whichever thread takes it and the bytes never depend on the thread count.
#include "core/synthetic.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "core/error.h"
#include "core/memory.h"
#include "core/quant.h"

namespace gp {
namespace {

ModelConfig llama_like(int layers, int dim, int heads, int kv_heads, int ffn, int vocab, int ctx, double theta,
                       bool tied) {
  ModelConfig c;
  c.arch = Arch::Llama;
  c.n_layers = layers;
  c.dim = dim;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.head_dim = dim / heads;
  c.ffn_dim = ffn;
  c.vocab_size = vocab;
  c.max_seq_len = ctx;
  c.rope_theta = theta;
  c.rms_eps = 1e-5;
  c.tied_embeddings = tied;
  c.bos_id = 1;
  c.eos_ids = {2};
  return c;
}

std::vector<SyntheticPreset> make_presets() {
  std::vector<SyntheticPreset> p;
  // microsoft/Phi-3-mini-4k-instruct: 32 layers, 3072, 32 heads of 96, ffn 8192, sliding window 2047
  ModelConfig phi = llama_like(32, 3072, 32, 32, 8192, 32064, 4096, 10000.0, false);
  phi.arch = Arch::Phi3;
  phi.sliding_window = 2047;
  phi.eos_ids = {32000, 32007};
  p.push_back({"phi-3-mini", "microsoft/Phi-3-mini-4k-instruct", phi});
  p.push_back({"llama-2-7b", "meta-llama/Llama-2-7b-hf",
               llama_like(32, 4096, 32, 32, 11008, 32000, 4096, 10000.0, false)});
  p.push_back({"smollm2-135m", "HuggingFaceTB/SmolLM2-135M-Instruct",
               llama_like(30, 576, 9, 3, 1536, 49152, 8192, 100000.0, true)});
  // block-aligned everywhere (dims multiples of 32) so every dtype applies
  p.push_back({"tiny", "none (test model)", llama_like(2, 64, 4, 2, 160, 512, 256, 10000.0, true)});
  return p;
}

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// uniform in [-1, 1) from the top 24 bits
inline float unit(uint64_t bits) { return (float)(bits >> 40) * (2.0f / 16777216.0f) - 1.0f; }

constexpr float kStd = 0.02f;
const float kHalfWidth = kStd * std::sqrt(3.0f);  // uniform [-a, a] has std a / sqrt(3)
constexpr int64_t kChunk = 1 << 16;                // values per independently seeded chunk

// values [v0, v0 + n) of one tensor, n a multiple of the block size
void fill_chunk(uint8_t* dst, DType t, bool is_norm, int64_t n, uint64_t state) {
  const float a = kHalfWidth;
  switch (t) {
    case DType::F32: {
      float* f = reinterpret_cast<float*>(dst);
      for (int64_t i = 0; i < n; i++) f[i] = is_norm ? 1.0f + 0.1f * unit(splitmix64(state)) : a * unit(splitmix64(state));
      break;
    }
    case DType::F16:
    case DType::BF16: {
      uint16_t* h = reinterpret_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; i++) {
        const float v = is_norm ? 1.0f + 0.1f * unit(splitmix64(state)) : a * unit(splitmix64(state));
        h[i] = t == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
      }
      break;
    }
    case DType::Q8_0: {
      block_q8_0* b = reinterpret_cast<block_q8_0*>(dst);
      const uint16_t d = f32_to_f16(a / 127.0f);
      for (int64_t k = 0; k < n / kQK; k++) {
        b[k].d = d;
        for (int j = 0; j < kQK; j += 8) {
          uint64_t r = splitmix64(state);
          for (int i = 0; i < 8; i++, r >>= 8) b[k].qs[j + i] = (int8_t)((int)(r & 0xff) % 255 - 127);
        }
      }
      break;
    }
    case DType::Q4_0: {
      block_q4_0* b = reinterpret_cast<block_q4_0*>(dst);
      const uint16_t d = f32_to_f16(a / 8.0f);  // (q - 8) * d in [-a, 7a/8]
      for (int64_t k = 0; k < n / kQK; k++) {
        b[k].d = d;
        uint64_t r0 = splitmix64(state), r1 = splitmix64(state);
        for (int i = 0; i < 8; i++) b[k].qs[i] = (uint8_t)(r0 >> (8 * i)), b[k].qs[8 + i] = (uint8_t)(r1 >> (8 * i));
      }
      break;
    }
    case DType::Q4_1: {
      block_q4_1* b = reinterpret_cast<block_q4_1*>(dst);
      const uint16_t d = f32_to_f16(2.0f * a / 15.0f), m = f32_to_f16(-a);  // q * d + m in [-a, a]
      for (int64_t k = 0; k < n / kQK; k++) {
        b[k].d = d;
        b[k].m = m;
        uint64_t r0 = splitmix64(state), r1 = splitmix64(state);
        for (int i = 0; i < 8; i++) b[k].qs[i] = (uint8_t)(r0 >> (8 * i)), b[k].qs[8 + i] = (uint8_t)(r1 >> (8 * i));
      }
      break;
    }
  }
}

bool is_norm_name(const std::string& n) { return n.find("norm") != std::string::npos; }

}  // namespace

const std::vector<SyntheticPreset>& synthetic_presets() {
  static const std::vector<SyntheticPreset> p = make_presets();
  return p;
}

const std::vector<DType>& synthetic_dtypes() {
  static const std::vector<DType> d = {DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1};
  return d;
}

bool is_synthetic_spec(const std::string& s) { return s.rfind(kSyntheticPrefix, 0) == 0; }

const SyntheticPreset& synthetic_preset(const std::string& name) {
  std::string known;
  for (const auto& p : synthetic_presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  fail("synthetic model preset '", name, "' is unknown (known: ", known, ")");
}

SyntheticSpec parse_synthetic_spec(const std::string& s) {
  GP_CHECK(is_synthetic_spec(s), "'", s, "' is not a synthetic model spec (synthetic:<preset>[:<dtype>])");
  const std::string rest = s.substr(std::string(kSyntheticPrefix).size());
  const size_t colon = rest.find(':');
  SyntheticSpec spec;
  spec.preset = synthetic_preset(rest.substr(0, colon)).name;
  if (colon != std::string::npos) {
    const std::string d = rest.substr(colon + 1);
    DType t;
    const auto& ok = synthetic_dtypes();
    if (!dtype_from_name(d, &t) || std::find(ok.begin(), ok.end(), t) == ok.end()) {
      std::string known;
      for (DType k : ok) known += (known.empty() ? "" : ", ") + std::string(dtype_name(k));
      fail("synthetic model '", s, "': weight dtype '", d, "' is not supported (supported: ", known, ")");
    }
    spec.dtype = t;
  }
  return spec;
}

int64_t WeightEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t WeightEntry::nbytes() const {
  return shape.size() == 2 ? shape[0] * dtype_row_bytes(dtype, shape[1]) : dtype_row_bytes(dtype, shape[0]);
}

std::vector<WeightEntry> synthetic_weights(const ModelConfig& c, DType dt) {
  const int64_t D = c.dim, q = (int64_t)c.n_heads * c.head_dim, kv = (int64_t)c.n_kv_heads * c.head_dim;
  const int64_t F = c.ffn_dim, V = c.vocab_size;
  std::vector<WeightEntry> w;
  w.push_back({"token_embd.weight", dt, {V, D}});
  for (int l = 0; l < c.n_layers; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    w.push_back({p + "attn_norm.weight", DType::F32, {D}});
    w.push_back({p + "attn_q.weight", dt, {q, D}});
    w.push_back({p + "attn_k.weight", dt, {kv, D}});
    w.push_back({p + "attn_v.weight", dt, {kv, D}});
    w.push_back({p + "attn_output.weight", dt, {D, q}});
    w.push_back({p + "ffn_norm.weight", DType::F32, {D}});
    w.push_back({p + "ffn_gate.weight", dt, {F, D}});
    w.push_back({p + "ffn_up.weight", dt, {F, D}});
    w.push_back({p + "ffn_down.weight", dt, {D, F}});
  }
  w.push_back({"output_norm.weight", DType::F32, {D}});
  if (!c.tied_embeddings) w.push_back({"output.weight", dt, {V, D}});
  return w;
}

std::unique_ptr<Model> make_synthetic_model(const ModelConfig& cfg, DType dtype, uint64_t seed,
                                            const std::string& name) {
  const auto& ok = synthetic_dtypes();
  GP_CHECK(std::find(ok.begin(), ok.end(), dtype) != ok.end(), name, ": synthetic weights in ",
           dtype_name(dtype), " are not supported");
  auto m = std::make_unique<Model>();
  m->path = name;
  m->format = "synthetic";
  m->cfg = cfg;
  const std::vector<WeightEntry> entries = synthetic_weights(cfg, dtype);
  int64_t total = 0;
  for (const auto& e : entries) total += e.nbytes();
  check_host_alloc(total, str(name, ": synthetic weights (", dtype_name(dtype), ", ", entries.size(), " tensors)"));

  // allocate (value-initialised: the zero pages are overwritten below), then fill in parallel
  m->owned.reserve(entries.size());
  std::vector<TensorView> views;
  for (const auto& e : entries) {
    m->owned.emplace_back((size_t)e.nbytes());
    TensorView v;
    v.name = e.name;
    v.dtype = e.dtype;
    v.shape = e.shape;
    v.data = m->owned.back().data();
    v.nbytes = e.nbytes();
    views.push_back(v);
  }
  struct Job {
    size_t tensor;
    int64_t v0, n;
  };
  std::vector<Job> jobs;
  for (size_t t = 0; t < entries.size(); t++) {
    const int64_t n = entries[t].numel();
    for (int64_t v0 = 0; v0 < n; v0 += kChunk) jobs.push_back({t, v0, std::min(kChunk, n - v0)});
  }
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
      const Job& job = jobs[j];
      const WeightEntry& e = entries[job.tensor];
      uint64_t s = seed ^ (0x5851f42d4c957f2dull * (job.tensor + 1));
      uint64_t state = splitmix64(s) ^ (uint64_t)(job.v0 / kChunk);
      splitmix64(state);
      // chunks are multiples of 32 values, so whole blocks: byte offset = v0 / block * block bytes
      uint8_t* dst = m->owned[job.tensor].data() + job.v0 / dtype_block_elems(e.dtype) * dtype_block_bytes(e.dtype);
      fill_chunk(dst, e.dtype, is_norm_name(e.name), job.n, state);
    }
  };
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const size_t n_threads = std::min<size_t>(hw, (jobs.size() + 7) / 8);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n_threads; i++) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();

  size_t i = 0;
  m->tok_embd = views[i++];
  for (int l = 0; l < cfg.n_layers; l++) {
    LayerWeights w;
    w.attn_norm = views[i++];
    w.wq = views[i++];
    w.wk = views[i++];
    w.wv = views[i++];
    w.wo = views[i++];
    w.ffn_norm = views[i++];
    w.w_gate = views[i++];
    w.w_up = views[i++];
    w.w_down = views[i++];
    m->layers.push_back(std::move(w));
  }
  m->final_norm = views[i++];
  m->lm_head = cfg.tied_embeddings ? m->tok_embd : views[i++];
  validate_model(*m);
  return m;
}

std::unique_ptr<Model> make_synthetic_model(const std::string& spec) {
  const SyntheticSpec s = parse_synthetic_spec(spec);
  return make_synthetic_model(synthetic_preset(s.preset).cfg, s.dtype, s.seed, spec);
}

}  // namespace gp
