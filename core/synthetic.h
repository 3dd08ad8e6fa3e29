// synthetic.h: models with the real shapes of published checkpoints and
// seeded random weights, generated in memory, so speed and memory can be
// measured at full size without downloading weights. Spec strings:
// "synthetic:<preset>[:<dtype>]", e.g. "synthetic:phi-3-mini" (f16) or
// "synthetic:llama-2-7b:q4_0". Synthetic models have no tokenizer.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/model.h"

namespace gp {

constexpr const char* kSyntheticPrefix = "synthetic:";
constexpr uint64_t kSyntheticSeed = 20261128;  // the seed of every spec-string model

struct SyntheticPreset {
  std::string name;    // "phi-3-mini"
  std::string source;  // the checkpoint whose shapes it has, e.g. "microsoft/Phi-3-mini-4k-instruct"
  ModelConfig cfg;
};

// phi-3-mini, llama-2-7b, smollm2-135m, and "tiny" (2 layers, dim 64: for tests).
const std::vector<SyntheticPreset>& synthetic_presets();
// The weight dtypes synthetic models come in: f16, q8_0, q4_0, q4_1.
const std::vector<DType>& synthetic_dtypes();

struct SyntheticSpec {
  std::string preset;
  DType dtype = DType::F16;
  uint64_t seed = kSyntheticSeed;
};

bool is_synthetic_spec(const std::string& s);  // starts with "synthetic:"
// "synthetic:<preset>[:<dtype>]" -> spec; gp::Error naming the known presets/dtypes otherwise.
SyntheticSpec parse_synthetic_spec(const std::string& s);
const SyntheticPreset& synthetic_preset(const std::string& name);  // throws for an unknown name

// One weight tensor as the model will hold it: name, dtype, shape.
struct WeightEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;  // (rows, cols) or (cols)
  int64_t numel() const;
  int64_t nbytes() const;
};
// Every tensor of a model with this config whose matrices are stored as
// `dtype` (norms: f32, as GGUF stores them); the tied head is listed once.
// Known before any weight exists, so memory can be planned first.
std::vector<WeightEntry> synthetic_weights(const ModelConfig& cfg, DType dtype);

// Generates the model: matrices uniform with standard deviation 0.02 (quantized
// formats get random blocks of that spread directly), norm weights in
// [0.9, 1.1]. Deterministic in seed whatever the thread count; checks the host
// memory cap before allocating. name goes to Model::path.
std::unique_ptr<Model> make_synthetic_model(const ModelConfig& cfg, DType dtype, uint64_t seed,
                                            const std::string& name);
// From a spec string (uses the preset's config).
std::unique_ptr<Model> make_synthetic_model(const std::string& spec);

}  // namespace gp
