// model.cpp: load_model for Hugging Face directories (config.json +
// safetensors) and GGUF files (llama.cpp's names and metadata keys), mapped
// into one internal layout: transformers' (see model.h). Two conversions:
// Phi-3's fused qkv/gate_up weights become row-slice views, and GGUF Llama
// q/k rows, which llama.cpp's convert_hf_to_gguf.py permutes for interleaved
// RoPE, are un-permuted back into rotate-half order (copied, whole rows).
#include "core/model.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/gguf.h"
#include "core/json_depth.h"
#include "core/mapped_file.h"
#include "core/memory.h"
#include "core/quote.h"
#include "core/safetensors.h"
#include "core/synthetic.h"

namespace gp {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Llama: return "llama";
    case Arch::Phi3: return "phi3";
  }
  return "unknown";
}

int64_t TensorView::numel() const {
  if (shape.empty()) return 0;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t TensorView::row_bytes() const { return dtype_row_bytes(dtype, cols()); }

int64_t Model::weight_bytes() const {
  int64_t n = tok_embd.nbytes + final_norm.nbytes;
  if (lm_head.data != tok_embd.data) n += lm_head.nbytes;
  for (const auto& l : layers)
    for (const TensorView* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down})
      n += t->nbytes;
  return n;
}

namespace {

using json = nlohmann::json;

std::string join(const std::string& dir, const std::string& name) {
  return !dir.empty() && dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + std::to_string(s[k]);
  return out + "]";
}

// rows [r0, r0+n) of a 2-D view, as a view into the same bytes
TensorView slice_rows(const TensorView& t, int64_t r0, int64_t n, const char* part) {
  TensorView s = t;
  s.name = t.name + "[" + part + "]";
  s.shape = {n, t.cols()};
  s.data = t.data + r0 * t.row_bytes();
  s.nbytes = n * t.row_bytes();
  return s;
}

// a fused weight must have exactly the rows its parts add up to before it is sliced
void expect_rows(const std::string& path, const TensorView& t, int64_t rows, int64_t cols) {
  if (t.shape.size() != 2 || t.shape[0] != rows)
    fail(path, ": tensor ", quote(t.name), " has shape ", shape_str(t.shape), ", expected ",
         shape_str({rows, cols}));
}

// ---------------------------------------------------------------------------
// config checks shared by both formats

void check_config(const ModelConfig& c, const std::string& path) {
  auto positive = [&](const char* what, int v) {
    if (v <= 0) fail(path, ": ", what, " is ", v, ", must be positive");
  };
  positive("n_layers", c.n_layers);
  positive("dim", c.dim);
  positive("n_heads", c.n_heads);
  positive("n_kv_heads", c.n_kv_heads);
  positive("head_dim", c.head_dim);
  positive("ffn_dim", c.ffn_dim);
  positive("vocab_size", c.vocab_size);
  positive("max_seq_len", c.max_seq_len);
  if (c.head_dim % 2 != 0) fail(path, ": head_dim ", c.head_dim, " is odd; RoPE needs an even head_dim");
  if (c.n_heads % c.n_kv_heads != 0)
    fail(path, ": n_heads ", c.n_heads, " is not a multiple of n_kv_heads ", c.n_kv_heads);
  if ((int64_t)c.n_heads * c.head_dim > INT_MAX) fail(path, ": n_heads * head_dim overflows int");
  if (c.sliding_window < 0) fail(path, ": sliding_window ", c.sliding_window, " is negative");
  if (!(c.rope_theta > 0)) fail(path, ": rope_theta ", c.rope_theta, " must be positive");
  if (!(c.rms_eps > 0)) fail(path, ": rms_norm_eps ", c.rms_eps, " must be positive");
}

// ---------------------------------------------------------------------------
// Hugging Face: config.json

// typed access to config.json; every error names the file and the key
struct JsonConfig {
  const json& j;
  std::string file;

  bool present(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }

  const json& need(const char* key) const {
    if (!j.contains(key)) fail(file, ": missing key '", key, "'");
    if (j.at(key).is_null()) fail(file, ": key '", key, "' is null");
    return j.at(key);
  }

  [[noreturn]] void wrong(const char* key, const char* want, const json& v) const {
    fail(file, ": key '", key, "' must be ", want, ", got ", v.type_name(), " ", one_line(v.dump()).substr(0, 60));
  }

  int to_int(const char* key, const json& v) const {
    if (!v.is_number_integer()) wrong(key, "an integer", v);
    if (v.is_number_unsigned() ? v.get<uint64_t>() > (uint64_t)INT_MAX
                               : (v.get<int64_t>() < INT_MIN || v.get<int64_t>() > INT_MAX))
      fail(file, ": key '", key, "' value ", v.dump(), " is out of range");
    return (int)v.get<int64_t>();
  }

  int positive(const char* key) const {
    int v = to_int(key, need(key));
    if (v <= 0) fail(file, ": key '", key, "' must be a positive integer, got ", v);
    return v;
  }

  int positive_or(const char* key, int dflt) const {
    if (!present(key)) return dflt;
    int v = to_int(key, j.at(key));
    if (v <= 0) fail(file, ": key '", key, "' must be a positive integer, got ", v);
    return v;
  }

  double number(const char* key) const {
    const json& v = need(key);
    if (!v.is_number()) wrong(key, "a number", v);
    return v.get<double>();
  }

  double number_or(const char* key, double dflt) const { return present(key) ? number(key) : dflt; }

  bool boolean_or(const char* key, bool dflt) const {
    if (!present(key)) return dflt;
    const json& v = j.at(key);
    if (!v.is_boolean()) wrong(key, "true or false", v);
    return v.get<bool>();
  }

  std::string string(const char* key) const {
    const json& v = need(key);
    if (!v.is_string()) wrong(key, "a string", v);
    return v.get<std::string>();
  }
};

ModelConfig parse_hf_config(const json& j, const std::string& file) {
  if (!j.is_object()) fail(file, ": not a JSON object");
  JsonConfig c{j, file};
  ModelConfig cfg;
  std::string type = c.string("model_type");
  if (type == "llama") cfg.arch = Arch::Llama;
  else if (type == "phi3") cfg.arch = Arch::Phi3;
  else fail(file, ": model_type ", quote(type), " is not supported (llama, phi3)");

  if (c.present("rope_scaling"))
    fail(file, ": rope_scaling ", one_line(j.at("rope_scaling").dump()).substr(0, 80), " is not supported");
  if (c.present("partial_rotary_factor") && c.number("partial_rotary_factor") != 1.0)
    fail(file, ": partial_rotary_factor ", c.number("partial_rotary_factor"), " is not supported (partial rotary)");
  if (c.boolean_or("attention_bias", false)) fail(file, ": attention_bias true is not supported");
  if (c.boolean_or("mlp_bias", false)) fail(file, ": mlp_bias true is not supported");
  if (c.present("hidden_act") && c.string("hidden_act") != "silu")
    fail(file, ": hidden_act ", quote(c.string("hidden_act")), " is not supported (silu)");

  cfg.dim = c.positive("hidden_size");
  cfg.n_heads = c.positive("num_attention_heads");
  cfg.n_kv_heads = c.positive_or("num_key_value_heads", cfg.n_heads);
  cfg.head_dim = c.positive_or("head_dim", cfg.dim / cfg.n_heads);
  cfg.ffn_dim = c.positive("intermediate_size");
  cfg.n_layers = c.positive("num_hidden_layers");
  cfg.vocab_size = c.positive("vocab_size");
  cfg.max_seq_len = c.positive("max_position_embeddings");
  cfg.rope_theta = c.number_or("rope_theta", 10000.0);
  cfg.rms_eps = c.number("rms_norm_eps");
  cfg.tied_embeddings = c.boolean_or("tie_word_embeddings", false);
  // transformers' Llama ignores sliding_window; Phi-3 uses it
  if (cfg.arch == Arch::Phi3 && c.present("sliding_window")) {
    cfg.sliding_window = c.to_int("sliding_window", j.at("sliding_window"));
    if (cfg.sliding_window < 0) fail(file, ": key 'sliding_window' must be >= 0, got ", cfg.sliding_window);
  }
  cfg.bos_id = c.present("bos_token_id") ? c.to_int("bos_token_id", j.at("bos_token_id")) : -1;
  if (c.present("eos_token_id")) {
    const json& e = j.at("eos_token_id");
    if (e.is_array()) {
      for (const auto& x : e) cfg.eos_ids.push_back(c.to_int("eos_token_id", x));
    } else if (e.is_number_integer()) {
      cfg.eos_ids.push_back(c.to_int("eos_token_id", e));
    } else {
      c.wrong("eos_token_id", "an integer or a list of integers", e);
    }
  }
  return cfg;
}

json read_json(const std::string& file) {
  MappedFile f(file);
  const char* p = reinterpret_cast<const char*>(f.data());
  try {
    return json::parse(p, p + f.size(), json_depth_limit(file));
  } catch (const json::exception& e) {
    fail(file, ": bad JSON: ", one_line(e.what()));
  }
}

// the reference reads every weight for every token, so mapped weights count
// against the host memory cap as much as owned copies do
void check_weights_fit(const Model& m) {
  check_host_alloc(m.weight_bytes(), str(m.path, ": model weights (", m.format, ", memory-mapped)"));
}

// ---------------------------------------------------------------------------
// Hugging Face: tensors

void load_hf(Model& m, const std::string& dir) {
  m.format = "safetensors";
  std::string cfg_file = join(dir, "config.json");
  m.cfg = parse_hf_config(read_json(cfg_file), cfg_file);
  check_config(m.cfg, cfg_file);
  const ModelConfig& c = m.cfg;

  auto tensors = load_safetensors_dir(dir);
  std::set<const MappedFile*> seen;
  for (const auto& kv : tensors)
    if (seen.insert(kv.second.file.get()).second) m.files.push_back(kv.second.file);

  auto get = [&](const std::string& name) {
    auto it = tensors.find(name);
    if (it == tensors.end()) fail(dir, ": missing tensor ", quote(name));
    const SafetensorsTensor& s = it->second;
    TensorView v;
    v.name = s.name;
    v.dtype = s.dtype;
    v.shape = s.shape;
    v.data = s.data;
    v.nbytes = s.nbytes;
    return v;
  };

  m.tok_embd = get("model.embed_tokens.weight");
  m.final_norm = get("model.norm.weight");
  m.lm_head = c.tied_embeddings ? m.tok_embd : get("lm_head.weight");

  const int64_t q_rows = (int64_t)c.n_heads * c.head_dim, kv_rows = (int64_t)c.n_kv_heads * c.head_dim;
  for (int i = 0; i < c.n_layers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    LayerWeights l;
    l.attn_norm = get(p + "input_layernorm.weight");
    l.ffn_norm = get(p + "post_attention_layernorm.weight");
    l.wo = get(p + "self_attn.o_proj.weight");
    l.w_down = get(p + "mlp.down_proj.weight");
    if (c.arch == Arch::Phi3) {
      TensorView qkv = get(p + "self_attn.qkv_proj.weight");
      expect_rows(dir, qkv, q_rows + 2 * kv_rows, c.dim);
      l.wq = slice_rows(qkv, 0, q_rows, "q");
      l.wk = slice_rows(qkv, q_rows, kv_rows, "k");
      l.wv = slice_rows(qkv, q_rows + kv_rows, kv_rows, "v");
      TensorView gate_up = get(p + "mlp.gate_up_proj.weight");
      expect_rows(dir, gate_up, 2 * (int64_t)c.ffn_dim, c.dim);
      l.w_gate = slice_rows(gate_up, 0, c.ffn_dim, "gate");
      l.w_up = slice_rows(gate_up, c.ffn_dim, c.ffn_dim, "up");
    } else {
      l.wq = get(p + "self_attn.q_proj.weight");
      l.wk = get(p + "self_attn.k_proj.weight");
      l.wv = get(p + "self_attn.v_proj.weight");
      l.w_gate = get(p + "mlp.gate_proj.weight");
      l.w_up = get(p + "mlp.up_proj.weight");
    }
    m.layers.push_back(std::move(l));
  }
  check_weights_fit(m);  // views of the mapped shards: sizes bounded by the files
}

// ---------------------------------------------------------------------------
// GGUF: metadata and tensors (llama.cpp's llama-arch.cpp names)

int gguf_positive(const GgufFile& g, const std::string& key) {
  int64_t v = g.get_int(key);
  if (v <= 0 || v > INT_MAX) fail(g.path(), ": metadata key ", quote(key), " is ", v, ", must be a positive int");
  return (int)v;
}

int gguf_positive_or(const GgufFile& g, const std::string& key, int dflt) {
  return g.has(key) ? gguf_positive(g, key) : dflt;
}

ModelConfig parse_gguf_config(const GgufFile& g) {
  const std::string& path = g.path();
  ModelConfig cfg;
  std::string arch = g.get_string("general.architecture");
  if (arch == "llama") cfg.arch = Arch::Llama;
  else if (arch == "phi3") cfg.arch = Arch::Phi3;
  else fail(path, ": general.architecture ", quote(arch), " is not supported (llama, phi3)");
  const std::string a = arch + ".";

  cfg.n_layers = gguf_positive(g, a + "block_count");
  cfg.dim = gguf_positive(g, a + "embedding_length");
  cfg.n_heads = gguf_positive(g, a + "attention.head_count");
  cfg.n_kv_heads = gguf_positive_or(g, a + "attention.head_count_kv", cfg.n_heads);
  cfg.head_dim = gguf_positive_or(g, a + "attention.key_length", cfg.dim / cfg.n_heads);
  if (gguf_positive_or(g, a + "attention.value_length", cfg.head_dim) != cfg.head_dim)
    fail(path, ": ", a, "attention.value_length differs from the key length ", cfg.head_dim, "; not supported");
  cfg.ffn_dim = gguf_positive(g, a + "feed_forward_length");
  cfg.max_seq_len = gguf_positive(g, a + "context_length");
  cfg.rope_theta = g.get_float_or(a + "rope.freq_base", 10000.0);
  cfg.rms_eps = g.get_float(a + "attention.layer_norm_rms_epsilon");
  int rot = gguf_positive_or(g, a + "rope.dimension_count", cfg.head_dim);
  if (rot != cfg.head_dim)
    fail(path, ": ", a, "rope.dimension_count ", rot, " differs from head_dim ", cfg.head_dim,
         "; partial rotary embeddings are not supported");
  if (g.has(a + "rope.scaling.type") && g.get_string(a + "rope.scaling.type") != "none")
    fail(path, ": rope scaling ", quote(g.get_string(a + "rope.scaling.type")), " is not supported");
  for (const char* t : {"rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"})
    if (g.find(t)) fail(path, ": tensor '", t, "' (rope scaling) is not supported");
  if (cfg.arch == Arch::Phi3) {
    int64_t w = g.get_int_or(a + "attention.sliding_window", 0);
    if (w < 0 || w > INT_MAX) fail(path, ": ", a, "attention.sliding_window ", w, " is out of range");
    cfg.sliding_window = (int)w;
  }

  int64_t bos = g.get_int_or("tokenizer.ggml.bos_token_id", -1);
  if (gguf_no_token(bos)) bos = -1;
  if (bos < -1 || bos > INT_MAX) fail(path, ": tokenizer.ggml.bos_token_id ", bos, " is out of range");
  cfg.bos_id = (int)bos;
  if (g.has("tokenizer.ggml.eos_token_id")) {
    int64_t eos = g.get_int("tokenizer.ggml.eos_token_id");
    if (eos < 0 || eos > INT_MAX) {
      if (!gguf_no_token(eos)) fail(path, ": tokenizer.ggml.eos_token_id ", eos, " is out of range");
    } else {
      cfg.eos_ids.push_back((int)eos);
    }
  }

  // vocab size: rows of token_embd, agreeing with the tokenizer and the vocab_size key when present
  const GgufTensorInfo* embd = g.find("token_embd.weight");
  if (!embd) fail(path, ": missing tensor 'token_embd.weight'");
  if (embd->ne.size() != 2) fail(path, ": tensor 'token_embd.weight' has ", embd->ne.size(), " dimensions, expected 2");
  if (embd->ne[1] > INT_MAX) fail(path, ": token_embd.weight has ", embd->ne[1], " rows; too many");
  cfg.vocab_size = (int)embd->ne[1];
  if (g.has("tokenizer.ggml.tokens")) {
    const GgufValue& tok = g.get("tokenizer.ggml.tokens");
    if (tok.type != GgufType::ARRAY || tok.elem_type != GgufType::STRING)
      fail(path, ": tokenizer.ggml.tokens is not an array of strings");
    if ((int64_t)tok.as.size() != cfg.vocab_size)
      fail(path, ": tokenizer.ggml.tokens has ", tok.as.size(), " tokens but token_embd.weight has ",
           cfg.vocab_size, " rows");
  }
  if (g.has(a + "vocab_size") && g.get_int(a + "vocab_size") != cfg.vocab_size)
    fail(path, ": ", a, "vocab_size ", g.get_int(a + "vocab_size"), " differs from the ", cfg.vocab_size,
         " rows of token_embd.weight");
  cfg.tied_embeddings = g.find("output.weight") == nullptr;
  return cfg;
}

// GGUF lists ne[0] (contiguous) first; the view's shape is row-major
TensorView gguf_view(const GgufTensorInfo& t) {
  TensorView v;
  v.name = t.name;
  v.dtype = t.dtype;
  v.shape.assign(t.ne.rbegin(), t.ne.rend());
  v.data = t.data;
  v.nbytes = t.nbytes;
  return v;
}

// llama.cpp's converter stores hf row h*hd + j*hd/2 + i at gguf row h*hd + 2*i + j
// (i < hd/2, j in {0,1}); copy whole rows back into hf order.
void unpermute_rope_rows(Model& m, TensorView& t, int n_head, int head_dim) {
  const int64_t rb = t.row_bytes(), half = head_dim / 2;
  int64_t owned = 0;
  for (const auto& b : m.owned) owned += (int64_t)b.size();
  check_host_alloc(owned + t.nbytes, str(m.path, ": un-permuted copies of q/k weights (up to ", quote(t.name), ")"));
  std::vector<uint8_t> buf((size_t)t.nbytes);
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t i = 0; i < half; ++i) {
        int64_t hf = h * head_dim + j * half + i, gg = h * head_dim + 2 * i + j;
        std::memcpy(buf.data() + hf * rb, t.data + gg * rb, (size_t)rb);
      }
  m.owned.push_back(std::move(buf));
  t.data = m.owned.back().data();
}

void load_gguf(Model& m, const std::string& path) {
  m.format = "gguf";
  m.gguf = std::make_shared<GgufFile>(path);
  m.files.push_back(m.gguf->file());
  const GgufFile& g = *m.gguf;
  m.cfg = parse_gguf_config(g);
  check_config(m.cfg, path);
  const ModelConfig& c = m.cfg;

  auto get = [&](const std::string& name) {
    const GgufTensorInfo* t = g.find(name);
    if (!t) fail(path, ": missing tensor ", quote(name));
    return gguf_view(*t);
  };

  m.tok_embd = get("token_embd.weight");
  m.final_norm = get("output_norm.weight");
  m.lm_head = c.tied_embeddings ? m.tok_embd : get("output.weight");

  const int64_t q_rows = (int64_t)c.n_heads * c.head_dim, kv_rows = (int64_t)c.n_kv_heads * c.head_dim;
  for (int i = 0; i < c.n_layers; ++i) {
    std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights l;
    l.attn_norm = get(p + "attn_norm.weight");
    l.ffn_norm = get(p + "ffn_norm.weight");
    l.wo = get(p + "attn_output.weight");
    l.w_down = get(p + "ffn_down.weight");
    if (g.find(p + "attn_qkv.weight")) {
      TensorView qkv = get(p + "attn_qkv.weight");
      expect_rows(path, qkv, q_rows + 2 * kv_rows, c.dim);
      l.wq = slice_rows(qkv, 0, q_rows, "q");
      l.wk = slice_rows(qkv, q_rows, kv_rows, "k");
      l.wv = slice_rows(qkv, q_rows + kv_rows, kv_rows, "v");
    } else {
      l.wq = get(p + "attn_q.weight");
      l.wk = get(p + "attn_k.weight");
      l.wv = get(p + "attn_v.weight");
    }
    if (g.find(p + "ffn_gate.weight")) {
      l.w_gate = get(p + "ffn_gate.weight");
      l.w_up = get(p + "ffn_up.weight");
    } else if (c.arch == Arch::Phi3) {
      // phi3 stores gate_up_proj as ffn_up: gate rows first, then up
      TensorView gate_up = get(p + "ffn_up.weight");
      expect_rows(path, gate_up, 2 * (int64_t)c.ffn_dim, c.dim);
      l.w_gate = slice_rows(gate_up, 0, c.ffn_dim, "gate");
      l.w_up = slice_rows(gate_up, c.ffn_dim, c.ffn_dim, "up");
    } else {
      get(p + "ffn_gate.weight");  // throws: missing
    }
    m.layers.push_back(std::move(l));
  }

  // shapes first, so the permutation below stays inside each tensor
  validate_model(m);
  check_weights_fit(m);
  if (c.arch == Arch::Llama)
    for (auto& l : m.layers) {
      unpermute_rope_rows(m, l.wq, c.n_heads, c.head_dim);
      unpermute_rope_rows(m, l.wk, c.n_kv_heads, c.head_dim);
    }
}

// ---------------------------------------------------------------------------
// validation

void check_tensor(const std::string& path, const TensorView& t, const std::vector<int64_t>& shape, bool is_norm) {
  if (t.shape != shape)
    fail(path, ": tensor ", quote(t.name), " has shape ", shape_str(t.shape), ", expected ", shape_str(shape));
  if (is_norm && t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16)
    fail(path, ": tensor ", quote(t.name), " has dtype ", dtype_name(t.dtype), "; norm weights must be f32, f16 or bf16");
  int64_t bl = dtype_block_elems(t.dtype);
  if (t.cols() % bl != 0)
    fail(path, ": tensor ", quote(t.name), " rows of ", t.cols(), " values are not a multiple of the ",
         dtype_name(t.dtype), " block size ", bl);
  int64_t rb = dtype_row_bytes(t.dtype, t.cols());
  if (t.rows() > 0 && rb > INT64_MAX / t.rows()) fail(path, ": tensor ", quote(t.name), " byte size overflows");
  if (t.nbytes != rb * t.rows())
    fail(path, ": tensor ", quote(t.name), " holds ", t.nbytes, " bytes, expected ", rb * t.rows(), " for ",
         dtype_name(t.dtype), " ", shape_str(shape));
  if (!t.data) fail(path, ": tensor ", quote(t.name), " has no data");
}

}  // namespace

void validate_model(const Model& m) {
  const ModelConfig& c = m.cfg;
  const std::string& path = m.path;
  check_config(c, path);
  if ((int)m.layers.size() != c.n_layers)
    fail(path, ": ", m.layers.size(), " layers loaded, config says ", c.n_layers);
  const int64_t dim = c.dim, q = (int64_t)c.n_heads * c.head_dim, kv = (int64_t)c.n_kv_heads * c.head_dim;
  const int64_t ffn = c.ffn_dim, vocab = c.vocab_size;
  check_tensor(path, m.tok_embd, {vocab, dim}, false);
  check_tensor(path, m.final_norm, {dim}, true);
  check_tensor(path, m.lm_head, {vocab, dim}, false);
  for (const auto& l : m.layers) {
    check_tensor(path, l.attn_norm, {dim}, true);
    check_tensor(path, l.wq, {q, dim}, false);
    check_tensor(path, l.wk, {kv, dim}, false);
    check_tensor(path, l.wv, {kv, dim}, false);
    check_tensor(path, l.wo, {dim, q}, false);
    check_tensor(path, l.ffn_norm, {dim}, true);
    check_tensor(path, l.w_gate, {ffn, dim}, false);
    check_tensor(path, l.w_up, {ffn, dim}, false);
    check_tensor(path, l.w_down, {dim, ffn}, false);
  }
}

std::unique_ptr<Model> load_model(const std::string& path) {
  if (is_synthetic_spec(path)) return make_synthetic_model(path);  // "synthetic:<preset>[:<dtype>]"
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(path, ": ", std::strerror(errno));
  auto m = std::make_unique<Model>();
  m->path = path;
  if (S_ISDIR(st.st_mode)) {
    load_hf(*m, path);
  } else {
    std::string base = path.substr(path.find_last_of('/') + 1);
    bool dot_st = base.size() > 12 && base.compare(base.size() - 12, 12, ".safetensors") == 0;
    if (base == "config.json" || dot_st)
      fail(path, ": pass the model directory, not a file inside it");
    load_gguf(*m, path);  // GgufFile checks the magic
  }
  validate_model(*m);
  return m;
}

}  // namespace gp
