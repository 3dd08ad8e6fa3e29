// tokenizer_json_fuzz.cpp: libFuzzer target for Tokenizer::from_hf_dir
// (core/tokenizer.h). The input is a tokenizer.json, optionally followed by
// the line "#tokenizer_config.json" and then a tokenizer_config.json (the
// seeds are the golden tiny models' pairs). It must load or throw gp::Error;
// when it loads, it is exercised (fuzz_util.h: encode, decode, stream).
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "core/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
const std::string kSeparator = "\n#tokenizer_config.json\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = gpfuzz::scratch_dir("tok");
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t sep = in.find(kSeparator);
  gpfuzz::write_file(dir + "/tokenizer.json", in.substr(0, sep));
  const std::string cfg = dir + "/tokenizer_config.json";
  if (sep != std::string::npos) gpfuzz::write_file(cfg, in.substr(sep + kSeparator.size()));
  else std::remove(cfg.c_str());
  std::unique_ptr<gp::Tokenizer> t;
  try {
    t = gp::Tokenizer::from_hf_dir(dir);
    gpfuzz::accepted("from_hf_dir");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("from_hf_dir", e);
    return 0;
  }
  gpfuzz::exercise_tokenizer(*t);
  return 0;
}
