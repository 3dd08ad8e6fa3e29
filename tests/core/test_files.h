// test_files.h: small writers for the loader tests: a temporary directory,
// a GGUF builder (header, typed metadata, tensor table, aligned data), a
// safetensors writer, and a tiny Llama / Phi-3 model written both as a Hugging
// Face directory and as a GGUF file from the same weights. Weights are
// multiples of 1/8 in [-11/8, 11/8], exact in f16, bf16 and q8_0 (d = 1/8).
#pragma once
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>

#include "core/error.h"
#include "core/quant.h"

namespace gptest {

inline bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

// what() of the gp::Error fn throws, or "(no error)"
inline std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const gp::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// fn throws gp::Error: one line containing every part of expect
inline ::testing::AssertionResult fails_with(const std::function<void()>& fn, const std::vector<std::string>& expect) {
  const std::string msg = message_of(fn);
  if (msg == "(no error)") return ::testing::AssertionFailure() << "no error";
  if (msg.find('\n') != std::string::npos) return ::testing::AssertionFailure() << "not one line: " << msg;
  for (const auto& e : expect)
    if (msg.find(e) == std::string::npos) return ::testing::AssertionFailure() << "no '" << e << "' in: " << msg;
  return ::testing::AssertionSuccess() << msg;
}

using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------
// files

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "goldpath-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const void* data, size_t n) {
  // a new file each time: ext4 flushes a file that is truncated and rewritten (auto_da_alloc),
  // which made the truncation tests 40x slower
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), (std::streamsize)n);
  if (!f) throw std::runtime_error("cannot write " + path);
}
inline void write_file(const std::string& path, const Bytes& b) { write_file(path, b.data(), b.size()); }
inline void write_file(const std::string& path, const std::string& s) { write_file(path, s.data(), s.size()); }

inline Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

template <class T>
void put(Bytes& b, T v) {
  uint8_t tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  b.insert(b.end(), tmp, tmp + sizeof(T));
}
template <class T>
void poke(Bytes& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}
inline void put_str(Bytes& b, const std::string& s) {
  put<uint64_t>(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

// ---------------------------------------------------------------------------
// GGUF

enum : uint32_t { kU8 = 0, kI8, kU16, kI16, kU32, kI32, kF32, kBool, kStr, kArr, kU64, kI64, kF64 };
enum : uint32_t { kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ8_0 = 8, kGgmlBF16 = 30 };

struct GgufBuilder {
  struct Kv {
    std::string key;
    uint32_t type;
    Bytes value;  // encoded value, after the type field
  };
  struct Tensor {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type;
    Bytes data;
    std::optional<uint64_t> offset;  // written instead of the computed one
  };
  // where build() put things, for tests that cut or patch the bytes
  struct Layout {
    size_t header_end = 0;
    std::vector<size_t> kv_end;
    std::vector<size_t> tensor_info_end;
    std::vector<size_t> ne_field;      // first ne of tensor k
    std::vector<size_t> offset_field;  // offset of tensor k
    size_t data_start = 0;
  };

  uint32_t version = 3;
  uint64_t alignment = 32;  // layout only; add general.alignment yourself to change it in the file
  std::vector<Kv> kvs;
  std::vector<Tensor> tensors;
  Layout layout;

  void raw(const std::string& key, uint32_t type, Bytes value) { kvs.push_back({key, type, std::move(value)}); }
  template <class T>
  void scalar(const std::string& key, uint32_t type, T v) {
    Bytes b;
    put<T>(b, v);
    raw(key, type, b);
  }
  void u32(const std::string& k, uint32_t v) { scalar(k, kU32, v); }
  void i32(const std::string& k, int32_t v) { scalar(k, kI32, v); }
  void u64(const std::string& k, uint64_t v) { scalar(k, kU64, v); }
  void f32(const std::string& k, float v) { scalar(k, kF32, v); }
  void f64(const std::string& k, double v) { scalar(k, kF64, v); }
  void boolean(const std::string& k, bool v) { scalar<uint8_t>(k, kBool, v ? 1 : 0); }
  void str(const std::string& k, const std::string& v) {
    Bytes b;
    put_str(b, v);
    raw(k, kStr, b);
  }
  void arr_str(const std::string& k, const std::vector<std::string>& v) {
    Bytes b;
    put<uint32_t>(b, kStr);
    put<uint64_t>(b, v.size());
    for (const auto& s : v) put_str(b, s);
    raw(k, kArr, b);
  }
  void arr_i32(const std::string& k, const std::vector<int32_t>& v) {
    Bytes b;
    put<uint32_t>(b, kI32);
    put<uint64_t>(b, v.size());
    for (int32_t x : v) put<int32_t>(b, x);
    raw(k, kArr, b);
  }
  void arr_f32(const std::string& k, const std::vector<float>& v) {
    Bytes b;
    put<uint32_t>(b, kF32);
    put<uint64_t>(b, v.size());
    for (float x : v) put<float>(b, x);
    raw(k, kArr, b);
  }
  void tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, Bytes data) {
    tensors.push_back({name, std::move(ne), type, std::move(data), std::nullopt});
  }

  Bytes build() {
    layout = Layout();
    Bytes b = {'G', 'G', 'U', 'F'};
    put<uint32_t>(b, version);
    put<uint64_t>(b, tensors.size());
    put<uint64_t>(b, kvs.size());
    layout.header_end = b.size();
    for (const auto& kv : kvs) {
      put_str(b, kv.key);
      put<uint32_t>(b, kv.type);
      b.insert(b.end(), kv.value.begin(), kv.value.end());
      layout.kv_end.push_back(b.size());
    }
    std::vector<uint64_t> offsets;
    uint64_t off = 0;
    for (const auto& t : tensors) {
      off = (off + alignment - 1) / alignment * alignment;
      offsets.push_back(off);
      off += t.data.size();
    }
    for (size_t k = 0; k < tensors.size(); ++k) {
      const auto& t = tensors[k];
      put_str(b, t.name);
      put<uint32_t>(b, (uint32_t)t.ne.size());
      layout.ne_field.push_back(b.size());
      for (uint64_t n : t.ne) put<uint64_t>(b, n);
      put<uint32_t>(b, t.type);
      layout.offset_field.push_back(b.size());
      put<uint64_t>(b, t.offset.value_or(offsets[k]));
      layout.tensor_info_end.push_back(b.size());
    }
    while (b.size() % alignment) b.push_back(0);
    layout.data_start = b.size();
    for (size_t k = 0; k < tensors.size(); ++k) {
      b.resize(layout.data_start + offsets[k], 0);
      b.insert(b.end(), tensors[k].data.begin(), tensors[k].data.end());
    }
    return b;
  }
};

// ---------------------------------------------------------------------------
// encodings of float values (exact for the test weights)

inline Bytes encode_f32(const std::vector<float>& v) {
  Bytes b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
inline Bytes encode_f16(const std::vector<float>& v) {
  Bytes b;
  for (float x : v) put<uint16_t>(b, gp::f32_to_f16(x));
  return b;
}
inline Bytes encode_bf16(const std::vector<float>& v) {
  Bytes b;
  for (float x : v) put<uint16_t>(b, gp::f32_to_bf16(x));
  return b;
}
// q8_0 with d = 1/8: exact for multiples of 1/8 in [-127/8, 127/8]
inline Bytes encode_q8_0_eighths(const std::vector<float>& v) {
  Bytes b;
  for (size_t k = 0; k < v.size(); k += gp::kQK) {
    gp::block_q8_0 blk;
    blk.d = gp::f32_to_f16(0.125f);
    for (int j = 0; j < gp::kQK; ++j) blk.qs[j] = (int8_t)(v[k + j] * 8.0f);
    b.insert(b.end(), reinterpret_cast<uint8_t*>(&blk), reinterpret_cast<uint8_t*>(&blk) + sizeof blk);
  }
  return b;
}

// ---------------------------------------------------------------------------
// safetensors

struct StTensor {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", ...
  std::vector<int64_t> shape;
  Bytes data;
};

// header as given (length = its size), then data
inline Bytes safetensors_raw(const std::string& header, const Bytes& data) {
  Bytes b;
  put<uint64_t>(b, header.size());
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

inline Bytes safetensors_bytes(const std::vector<StTensor>& ts) {
  nlohmann::json h = nlohmann::json::object();
  h["__metadata__"] = {{"format", "pt"}};
  Bytes data;
  for (const auto& t : ts) {
    int64_t begin = (int64_t)data.size();
    data.insert(data.end(), t.data.begin(), t.data.end());
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, (int64_t)data.size()}}};
  }
  std::string s = h.dump();
  while (s.size() % 8) s += ' ';  // the safetensors writer pads with spaces too
  return safetensors_raw(s, data);
}

// ---------------------------------------------------------------------------
// a tiny model, as a Hugging Face directory and as a GGUF file

struct Mat {
  std::vector<int64_t> shape;  // row-major
  std::vector<float> v;
  int64_t rows() const { return shape.size() == 2 ? shape[0] : 1; }
  int64_t cols() const { return shape.back(); }
};

struct TinyModel {
  bool phi3 = false;
  int dim = 64, n_heads = 4, n_kv_heads = 2, head_dim = 16, ffn = 96, n_layers = 2, vocab = 128;
  int max_seq = 256, sliding_window = 0;
  double rope_theta = 10000.0, rms_eps = 1e-5;
  bool tied = true;
  std::map<std::string, Mat> hf;  // transformers names and layout

  static TinyModel llama() { return TinyModel(); }
  static TinyModel phi3_model() {
    TinyModel t;
    t.phi3 = true;
    t.tied = false;
    t.sliding_window = 32;
    return t;
  }

  // value of element (r, c) of tensor number k: a multiple of 1/8, never all zero
  static float weight_value(int k, int64_t r, int64_t c) {
    return (float)((r * 31 + c * 17 + k * 7 + 3) % 23 - 11) / 8.0f;
  }
  void add(const std::string& name, std::vector<int64_t> shape) {
    Mat m;
    m.shape = shape;
    int k = (int)hf.size();
    for (int64_t r = 0; r < m.rows(); ++r)
      for (int64_t c = 0; c < m.cols(); ++c) m.v.push_back(weight_value(k, r, c));
    hf[name] = m;
  }

  void make_weights() {
    hf.clear();
    const int64_t q = (int64_t)n_heads * head_dim, kv = (int64_t)n_kv_heads * head_dim;
    add("model.embed_tokens.weight", {vocab, dim});
    add("model.norm.weight", {dim});
    if (!tied) add("lm_head.weight", {vocab, dim});
    for (int i = 0; i < n_layers; ++i) {
      std::string p = "model.layers." + std::to_string(i) + ".";
      add(p + "input_layernorm.weight", {dim});
      add(p + "post_attention_layernorm.weight", {dim});
      add(p + "self_attn.o_proj.weight", {dim, q});
      add(p + "mlp.down_proj.weight", {dim, ffn});
      if (phi3) {
        add(p + "self_attn.qkv_proj.weight", {q + 2 * kv, dim});
        add(p + "mlp.gate_up_proj.weight", {2 * (int64_t)ffn, dim});
      } else {
        add(p + "self_attn.q_proj.weight", {q, dim});
        add(p + "self_attn.k_proj.weight", {kv, dim});
        add(p + "self_attn.v_proj.weight", {kv, dim});
        add(p + "mlp.gate_proj.weight", {ffn, dim});
        add(p + "mlp.up_proj.weight", {ffn, dim});
      }
    }
  }

  nlohmann::json config() const {
    nlohmann::json c = {
        {"model_type", phi3 ? "phi3" : "llama"}, {"architectures", {phi3 ? "Phi3ForCausalLM" : "LlamaForCausalLM"}},
        {"hidden_size", dim}, {"num_attention_heads", n_heads}, {"num_key_value_heads", n_kv_heads},
        {"intermediate_size", ffn}, {"num_hidden_layers", n_layers}, {"vocab_size", vocab},
        {"max_position_embeddings", max_seq}, {"rms_norm_eps", rms_eps}, {"rope_theta", rope_theta},
        {"tie_word_embeddings", tied}, {"bos_token_id", 1}, {"rope_scaling", nullptr},
        {"hidden_act", "silu"}, {"torch_dtype", "float32"}};
    if (phi3) {
      c["sliding_window"] = sliding_window;
      c["eos_token_id"] = {2, 3};
    } else {
      c["eos_token_id"] = 2;
      c["head_dim"] = head_dim;
      c["attention_bias"] = false;
      c["mlp_bias"] = false;
    }
    return c;
  }

  static std::string st_dtype_name(const std::string& d) { return d == "f16" ? "F16" : d == "bf16" ? "BF16" : "F32"; }
  static Bytes encode(const std::string& d, const std::vector<float>& v) {
    return d == "f16" ? encode_f16(v) : d == "bf16" ? encode_bf16(v) : encode_f32(v);
  }

  // config.json + model.safetensors, or shards + index when shards > 1
  void write_hf(const std::string& dir, const std::string& dtype = "f32", int shards = 1) const {
    std::filesystem::create_directories(dir);
    write_file(dir + "/config.json", config().dump(2));
    std::vector<std::vector<StTensor>> parts((size_t)shards);
    size_t k = 0;
    for (const auto& [name, m] : hf)
      parts[k++ % (size_t)shards].push_back({name, st_dtype_name(dtype), m.shape, encode(dtype, m.v)});
    if (shards == 1) {
      write_file(dir + "/model.safetensors", safetensors_bytes(parts[0]));
      return;
    }
    nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
    for (int s = 0; s < shards; ++s) {
      char fname[64];
      snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, shards);
      write_file(dir + "/" + fname, safetensors_bytes(parts[(size_t)s]));
      for (const auto& t : parts[(size_t)s]) index["weight_map"][t.name] = fname;
    }
    write_file(dir + "/model.safetensors.index.json", index.dump(2));
  }

  // llama.cpp's permute for q/k: gguf row h*hd + 2*i + j = hf row h*hd + j*hd/2 + i
  static Mat permute_rope(const Mat& m, int n_head) {
    Mat out = m;
    const int64_t hd = m.rows() / n_head, cols = m.cols();
    for (int64_t h = 0; h < n_head; ++h)
      for (int64_t i = 0; i < hd / 2; ++i)
        for (int64_t j = 0; j < 2; ++j)
          std::memcpy(&out.v[(size_t)((h * hd + 2 * i + j) * cols)], &m.v[(size_t)((h * hd + j * hd / 2 + i) * cols)],
                      (size_t)cols * 4);
    return out;
  }

  // GGUF with llama.cpp's names; matrices in mat_type, norms f32
  GgufBuilder gguf(uint32_t mat_type = kGgmlF32) const {
    GgufBuilder g;
    const std::string a = phi3 ? "phi3" : "llama";
    g.str("general.architecture", a);
    g.str("general.name", "tiny");
    g.u32(a + ".block_count", (uint32_t)n_layers);
    g.u32(a + ".context_length", (uint32_t)max_seq);
    g.u32(a + ".embedding_length", (uint32_t)dim);
    g.u32(a + ".feed_forward_length", (uint32_t)ffn);
    g.u32(a + ".attention.head_count", (uint32_t)n_heads);
    g.u32(a + ".attention.head_count_kv", (uint32_t)n_kv_heads);
    g.f32(a + ".rope.freq_base", (float)rope_theta);
    g.f32(a + ".attention.layer_norm_rms_epsilon", (float)rms_eps);
    g.u32(a + ".rope.dimension_count", (uint32_t)head_dim);
    if (phi3) g.u32(a + ".attention.sliding_window", (uint32_t)sliding_window);
    std::vector<std::string> toks;
    for (int t = 0; t < vocab; ++t) toks.push_back("tok" + std::to_string(t));
    g.arr_str("tokenizer.ggml.tokens", toks);
    g.u32("tokenizer.ggml.bos_token_id", 1);
    g.u32("tokenizer.ggml.eos_token_id", 2);

    auto add = [&](const std::string& name, const Mat& m, bool norm) {
      std::vector<uint64_t> ne(m.shape.rbegin(), m.shape.rend());
      uint32_t type = norm ? kGgmlF32 : mat_type;
      Bytes data = type == kGgmlQ8_0 ? encode_q8_0_eighths(m.v)
                   : type == kGgmlF16 ? encode_f16(m.v)
                   : type == kGgmlBF16 ? encode_bf16(m.v)
                                       : encode_f32(m.v);
      g.tensor(name, ne, type, data);
    };
    add("token_embd.weight", hf.at("model.embed_tokens.weight"), false);
    add("output_norm.weight", hf.at("model.norm.weight"), true);
    if (!tied) add("output.weight", hf.at("lm_head.weight"), false);
    for (int i = 0; i < n_layers; ++i) {
      std::string p = "model.layers." + std::to_string(i) + ".", b = "blk." + std::to_string(i) + ".";
      add(b + "attn_norm.weight", hf.at(p + "input_layernorm.weight"), true);
      add(b + "ffn_norm.weight", hf.at(p + "post_attention_layernorm.weight"), true);
      add(b + "attn_output.weight", hf.at(p + "self_attn.o_proj.weight"), false);
      add(b + "ffn_down.weight", hf.at(p + "mlp.down_proj.weight"), false);
      if (phi3) {
        add(b + "attn_qkv.weight", hf.at(p + "self_attn.qkv_proj.weight"), false);
        add(b + "ffn_up.weight", hf.at(p + "mlp.gate_up_proj.weight"), false);
      } else {
        add(b + "attn_q.weight", permute_rope(hf.at(p + "self_attn.q_proj.weight"), n_heads), false);
        add(b + "attn_k.weight", permute_rope(hf.at(p + "self_attn.k_proj.weight"), n_kv_heads), false);
        add(b + "attn_v.weight", hf.at(p + "self_attn.v_proj.weight"), false);
        add(b + "ffn_gate.weight", hf.at(p + "mlp.gate_proj.weight"), false);
        add(b + "ffn_up.weight", hf.at(p + "mlp.up_proj.weight"), false);
      }
    }
    return g;
  }
};

}  // namespace gptest
