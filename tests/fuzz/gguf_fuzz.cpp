// gguf_fuzz.cpp: libFuzzer target for the GGUF reader (core/gguf.h). The
// input is a GGUF file. GgufFile must parse it or throw gp::Error; when it
// parses, every metadata value is read through the typed getters and every
// tensor's bytes are read (they must lie inside the file), then the same file
// goes through load_model and Tokenizer::from_gguf, whose views must lie
// inside the model's memory. Anything but gp::Error escapes and crashes.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/gguf.h"
#include "core/model.h"
#include "core/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

uint64_t touch_metadata(const gp::GgufFile& g) {
  uint64_t sum = 0;
  for (const auto& [key, v] : g.metadata()) {
    switch (v.type) {
      case gp::GgufType::STRING: sum += g.get_string(key).size(); break;
      case gp::GgufType::F32:
      case gp::GgufType::F64: sum += (uint64_t)(g.get_float(key) != 0); break;
      case gp::GgufType::ARRAY:
        for (int64_t x : v.ai) sum += (uint64_t)x;
        for (double x : v.af) sum += (uint64_t)(x != 0);
        for (const auto& s : v.as) sum += s.size();
        break;
      case gp::GgufType::BOOL: sum += (uint64_t)v.i; break;
      default: sum += (uint64_t)g.get_int(key) + (uint64_t)(g.get_float(key) != 0); break;
    }
  }
  return sum;
}

uint64_t touch_tensors(const gp::GgufFile& g) {
  const uint8_t* begin = g.file()->data();
  const uint8_t* end = begin + g.file()->size();
  uint64_t sum = 0;
  for (const auto& t : g.tensors()) {
    if (g.find(t.name) != &t) gpfuzz::broken("find(" + t.name + ") is not the listed tensor");
    if (t.nbytes < 0 || !t.data || t.data < begin || t.data + t.nbytes > end)
      gpfuzz::broken("tensor " + t.name + " data lies outside the file");
    sum += gpfuzz::touch(t.data, t.nbytes);
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = gpfuzz::scratch_path("input.gguf");
  gpfuzz::write_file(path, data, size);
  volatile uint64_t sink = 0;
  try {
    gp::GgufFile g(path);
    sink = sink + touch_metadata(g) + touch_tensors(g);
    gpfuzz::accepted("GgufFile");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("GgufFile", e);
    return 0;
  }
  try {
    auto m = gp::load_model(path);
    sink = sink + gpfuzz::check_model_views(*m);
    gpfuzz::accepted("load_model");
    auto tok = gp::Tokenizer::from_gguf(*m->gguf);
    sink = sink + tok->encode("Hello, world! 123", true).size();
    gpfuzz::accepted("from_gguf");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("load_model/from_gguf", e);
  }
  return 0;
}
