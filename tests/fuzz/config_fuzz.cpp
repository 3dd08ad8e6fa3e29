// config_fuzz.cpp: libFuzzer target for config.json (core/model.h,
// load_model of a Hugging Face folder). The input is the folder's
// config.json; beside it lies a fixed model.safetensors written once, holding
// the tensors of both a small Llama and a small Phi-3 (config_model()) plus an
// lm_head, so a config that matches them loads. load_model must return a model
// whose every view lies inside its memory, or throw gp::Error.
#include <cstdint>
#include <map>
#include <string>

#include "core/error.h"
#include "core/model.h"
#include "tests/core/test_files.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

// config.json's folder, with the weights already there
const std::string& model_dir() {
  static const std::string dir = [] {
    const std::string folder = gpfuzz::scratch_dir("model");
    std::map<std::string, gptest::Mat> all = gpfuzz::config_model(false).hf;
    for (const auto& [name, m] : gpfuzz::config_model(true).hf) all.emplace(name, m);
    std::vector<gptest::StTensor> ts;
    for (const auto& [name, m] : all) ts.push_back({name, "F32", m.shape, gptest::encode_f32(m.v)});
    const gptest::Bytes b = gptest::safetensors_bytes(ts);
    gpfuzz::write_file(folder + "/model.safetensors", b.data(), b.size());
    return folder;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = model_dir();
  gpfuzz::write_file(dir + "/config.json", data, size);
  volatile uint64_t sink = 0;
  try {
    auto m = gp::load_model(dir);
    sink = sink + gpfuzz::check_model_views(*m) + (uint64_t)m->weight_bytes();
    gpfuzz::accepted("load_model");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("load_model", e);
  }
  return 0;
}
