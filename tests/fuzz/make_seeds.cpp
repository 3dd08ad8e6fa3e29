// make_seeds.cpp: writes the model-file seeds of the fuzz targets (run by
// hand, not by ctest; the seeds are committed): small GGUF models and the
// cut metadata of SmolLM2's GGUF (gguf_fuzz), safetensors files
// (safetensors_fuzz) and config.json files that match config_fuzz's weights
// (config_fuzz). The text seeds come from make_seeds.py.
//   fuzz_make_seeds <tests/fuzz/seeds>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/gguf.h"
#include "tests/core/test_files.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using gptest::Bytes;

void put_file(const std::string& path, const Bytes& b) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  gptest::write_file(path, b);
  std::printf("%s (%zu bytes)\n", path.c_str(), b.size());
}
void put_file(const std::string& path, const std::string& s) { put_file(path, Bytes(s.begin(), s.end())); }

// SmolLM2's GGUF without its tensor data: every metadata key (token lists cut
// to their first n entries) and the whole tensor table, so it parses as far as
// the data section
Bytes smollm2_cut(const std::string& path, size_t n) {
  gp::GgufFile f(path);
  gptest::GgufBuilder g;
  for (const auto& [key, v] : f.metadata()) {
    Bytes b;
    switch (v.type) {
      case gp::GgufType::STRING: gptest::put_str(b, v.s); break;
      case gp::GgufType::ARRAY: {
        gptest::put<uint32_t>(b, (uint32_t)v.elem_type);
        const size_t count = std::min(n, v.elem_type == gp::GgufType::STRING ? v.as.size()
                                         : v.af.empty() ? v.ai.size() : v.af.size());
        gptest::put<uint64_t>(b, count);
        for (size_t k = 0; k < count; ++k) {
          switch (v.elem_type) {
            case gp::GgufType::STRING: gptest::put_str(b, v.as[k]); break;
            case gp::GgufType::F32: gptest::put<float>(b, (float)v.af[k]); break;
            case gp::GgufType::F64: gptest::put<double>(b, v.af[k]); break;
            case gp::GgufType::I32: gptest::put<int32_t>(b, (int32_t)v.ai[k]); break;
            case gp::GgufType::U32: gptest::put<uint32_t>(b, (uint32_t)v.ai[k]); break;
            default: throw std::runtime_error("unexpected array type in " + key);
          }
        }
        break;
      }
      case gp::GgufType::F32: gptest::put<float>(b, (float)v.f); break;
      case gp::GgufType::F64: gptest::put<double>(b, v.f); break;
      case gp::GgufType::U8: case gp::GgufType::BOOL: gptest::put<uint8_t>(b, (uint8_t)v.i); break;
      case gp::GgufType::U32: gptest::put<uint32_t>(b, (uint32_t)v.i); break;
      case gp::GgufType::I32: gptest::put<int32_t>(b, (int32_t)v.i); break;
      case gp::GgufType::U64: gptest::put<uint64_t>(b, (uint64_t)v.i); break;
      default: throw std::runtime_error("unexpected type of " + key);
    }
    g.raw(key, (uint32_t)v.type, b);
  }
  for (const auto& t : f.tensors()) {
    g.tensor(t.name, std::vector<uint64_t>(t.ne.begin(), t.ne.end()), t.ggml_type, {});
    g.tensors.back().offset = t.offset;
  }
  return g.build();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds <tests/fuzz/seeds>\n");
    return 2;
  }
  const std::string out = argv[1];
  const gptest::TinyModel llama = gpfuzz::config_model(false), phi3 = gpfuzz::config_model(true);

  // gguf_fuzz
  gptest::GgufBuilder tok = llama.gguf(gptest::kGgmlF32);
  tok.str("tokenizer.ggml.model", "llama");
  tok.arr_f32("tokenizer.ggml.scores", std::vector<float>((size_t)llama.vocab, -1.0f));
  tok.arr_i32("tokenizer.ggml.token_type", std::vector<int32_t>((size_t)llama.vocab, 1));
  tok.boolean("tokenizer.ggml.add_bos_token", true);
  put_file(out + "/gguf_fuzz/llama_f32_tokenizer.gguf", tok.build());
  put_file(out + "/gguf_fuzz/phi3_f16.gguf", phi3.gguf(gptest::kGgmlF16).build());
  put_file(out + "/gguf_fuzz/phi3_bf16.gguf", phi3.gguf(gptest::kGgmlBF16).build());
  gptest::TinyModel q8 = gptest::TinyModel::llama();  // q8_0 rows need 32 values
  q8.n_layers = 1;
  q8.make_weights();
  gptest::GgufBuilder q8g = q8.gguf(gptest::kGgmlQ8_0);
  q8g.u64("general.alignment", 64);
  q8g.alignment = 64;
  put_file(out + "/gguf_fuzz/llama_q8_0_align64.gguf", q8g.build());
  const std::string smol = gpfuzz::kRoot + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (std::filesystem::exists(smol)) put_file(out + "/gguf_fuzz/smollm2_metadata_cut.gguf", smollm2_cut(smol, 256));
  else std::fprintf(stderr, "%s missing: no smollm2 seed (scripts/fetch_model.sh)\n", smol.c_str());

  // safetensors_fuzz
  for (const char* dtype : {"f32", "f16", "bf16"}) {
    std::vector<gptest::StTensor> ts;
    for (const auto& [name, m] : (std::string(dtype) == "f32" ? llama : phi3).hf)
      ts.push_back({name, gptest::TinyModel::st_dtype_name(dtype), m.shape, gptest::TinyModel::encode(dtype, m.v)});
    put_file(out + "/safetensors_fuzz/" + (std::string(dtype) == "f32" ? "llama_" : "phi3_") + dtype + ".safetensors",
             gptest::safetensors_bytes(ts));
  }
  put_file(out + "/safetensors_fuzz/empty_tensor.safetensors",
           gptest::safetensors_bytes(
               {{"empty", "F32", {0, 4}, {}}, {"scalar", "F16", {}, gptest::encode_f16({1.5f})}}));

  // config_fuzz
  put_file(out + "/config_fuzz/llama_config.json", llama.config().dump(2));
  put_file(out + "/config_fuzz/phi3_config.json", phi3.config().dump(2));
  for (const char* name : {"tiny-llama", "tiny-phi3"}) {
    const Bytes b = gptest::read_file(gpfuzz::kRoot + "/golden/models/" + name + "/config.json");
    put_file(out + "/config_fuzz/golden_" + std::string(name) + "_config.json", b);
  }
  return 0;
}
