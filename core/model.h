// model.h: a loaded model: its config and views of its weights in one
// internal layout, whatever the source file.
//
// Internal layout = transformers' layout: linear weights (out, in) row-major,
// q/k rows ordered for rotate-half RoPE (GGUF's Llama q/k, which llama.cpp
// permutes for interleaved RoPE, are un-permuted at load), Phi-3's fused
// qkv_proj and gate_up_proj split into wq/wk/wv and w_gate/w_up (row slices,
// no copy). Weights stay in their stored dtype; mmap'd where possible.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace gp {

enum class Arch { Llama, Phi3 };
const char* arch_name(Arch a);

struct ModelConfig {
  Arch arch = Arch::Llama;
  int n_layers = 0;
  int dim = 0;         // hidden size
  int n_heads = 0;     // query heads
  int n_kv_heads = 0;  // key/value heads (GQA when < n_heads)
  int head_dim = 0;
  int ffn_dim = 0;     // intermediate size
  int vocab_size = 0;
  int max_seq_len = 0;     // max_position_embeddings
  int sliding_window = 0;  // 0 = full causal attention
  double rope_theta = 10000.0;
  double rms_eps = 1e-5;
  bool tied_embeddings = false;
  int bos_id = -1;
  std::vector<int> eos_ids;
};

// A read-only view of one weight: shape in row-major order (PyTorch order:
// last dimension contiguous). data points into a mapped file or an owned buffer.
struct TensorView {
  std::string name;  // name in the source file
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  int64_t nbytes = 0;

  int64_t rows() const { return shape.size() == 2 ? shape[0] : 1; }
  int64_t cols() const { return shape.empty() ? 0 : shape.back(); }
  int64_t numel() const;
  int64_t row_bytes() const;  // bytes of one row (cols values)
  const uint8_t* row(int64_t r) const { return data + r * row_bytes(); }
};

struct LayerWeights {
  TensorView attn_norm;  // (dim)
  TensorView wq;         // (n_heads*head_dim, dim)
  TensorView wk;         // (n_kv_heads*head_dim, dim)
  TensorView wv;         // (n_kv_heads*head_dim, dim)
  TensorView wo;         // (dim, n_heads*head_dim)
  TensorView ffn_norm;   // (dim)
  TensorView w_gate;     // (ffn_dim, dim)
  TensorView w_up;       // (ffn_dim, dim)
  TensorView w_down;     // (dim, ffn_dim)
};

class MappedFile;
class GgufFile;

struct Model {
  std::string path;    // what the user gave
  std::string format;  // "gguf" or "safetensors"
  ModelConfig cfg;
  TensorView tok_embd;    // (vocab, dim)
  TensorView final_norm;  // (dim)
  TensorView lm_head;     // (vocab, dim); same data as tok_embd when tied
  std::vector<LayerWeights> layers;

  // what keeps the views alive
  std::vector<std::shared_ptr<MappedFile>> files;
  std::vector<std::vector<uint8_t>> owned;
  std::shared_ptr<GgufFile> gguf;  // GGUF metadata (tokenizer, ...) when loaded from GGUF

  int64_t weight_bytes() const;  // bytes of all weights as stored (tied head counted once)
};

// path: a .gguf file or a Hugging Face directory (config.json + model.safetensors
// or model.safetensors.index.json + shards), or "synthetic:<preset>[:<dtype>]"
// (core/synthetic.h). Throws gp::Error naming the file
// and the problem for anything missing, malformed or unsupported.
std::unique_ptr<Model> load_model(const std::string& path);

// Checks that the config is consistent and the weights have the shapes the
// config implies; throws gp::Error otherwise. Called by load_model.
void validate_model(const Model& m);

}  // namespace gp
