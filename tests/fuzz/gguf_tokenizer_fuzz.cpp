// gguf_tokenizer_fuzz.cpp: libFuzzer target for Tokenizer::from_gguf
// (core/tokenizer.h). The input is a small text that describes the
// tokenizer.ggml.* metadata of a GGUF, one item a line (the seeds come from
// the golden tiny tokenizers and SmolLM2's GGUF):
//   model <s> | pre <s> | arch <s> | chat <s>      string keys
//   bos|eos|unk|pad <int>                          *_token_id (u32, or i64 if out of u32 range)
//   add_bos|add_eos <int>                          bool when 0/1, else i32
//   tok <type> <score> <text>                      one token (text: the rest of the line)
//   merge <a b>                                    one merge (the rest of the line)
//   noscores | notypes | emptymerges | wrongtypes  drop scores/types, an empty merges array,
//                                                  scores as i32 and types as strings
//   text <s>                                       also encode s
// Other lines are ignored; strings may use the escapes \n, \t, \\ and \xHH.
// The GGUF is built with gptest::GgufBuilder and read by GgufFile; from_gguf
// must load it or throw gp::Error, and what loads is exercised (fuzz_util.h:
// encode, decode, stream).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/gguf.h"
#include "core/tokenizer.h"
#include "tests/core/test_files.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

// the first space-separated word of s from pos; pos moves past it and one space
std::string word(const std::string& s, size_t& pos) {
  const size_t sp = s.find(' ', pos);
  const std::string w = s.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
  pos = sp == std::string::npos ? s.size() : sp + 1;
  return w;
}

int64_t to_int(const std::string& s) { return std::strtoll(s.c_str(), nullptr, 10); }

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    if (c == 'n') out += '\n';
    else if (c == 't') out += '\t';
    else if (c == 'x' && i + 2 < s.size()) {
      out += (char)std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16);
      i += 2;
    } else out += c;
  }
  return out;
}

struct Spec {
  gptest::GgufBuilder g;
  std::vector<std::string> tokens, merges, texts;
  std::vector<float> scores;
  std::vector<int32_t> types;
  bool noscores = false, notypes = false, emptymerges = false, wrongtypes = false;
};

Spec parse(const std::string& in) {
  Spec sp;
  size_t start = 0;
  while (start < in.size()) {
    size_t end = in.find('\n', start);
    if (end == std::string::npos) end = in.size();
    const std::string line = in.substr(start, end - start);
    start = end + 1;
    size_t pos = 0;
    const std::string key = word(line, pos);
    const std::string rest = line.substr(pos);
    if (key == "model" || key == "pre") sp.g.str("tokenizer.ggml." + key, unescape(rest));
    else if (key == "arch") sp.g.str("general.architecture", unescape(rest));
    else if (key == "chat") sp.g.str("tokenizer.chat_template", unescape(rest));
    else if (key == "bos" || key == "eos" || key == "unk" || key == "pad") {
      const std::string k = "tokenizer.ggml." + std::string(key == "unk" ? "unknown" : key == "pad" ? "padding" : key) +
                            "_token_id";
      const int64_t v = to_int(rest);
      if (v >= 0 && v <= 0xffffffffLL) sp.g.u32(k, (uint32_t)v);
      else sp.g.scalar<int64_t>(k, gptest::kI64, v);
    } else if (key == "add_bos" || key == "add_eos") {
      const int64_t v = to_int(rest);
      if (v == 0 || v == 1) sp.g.boolean("tokenizer.ggml." + key + "_token", v == 1);
      else sp.g.i32("tokenizer.ggml." + key + "_token", (int32_t)v);
    } else if (key == "tok") {
      sp.types.push_back((int32_t)to_int(word(line, pos)));
      sp.scores.push_back(std::strtof(word(line, pos).c_str(), nullptr));
      sp.tokens.push_back(unescape(line.substr(pos)));
    } else if (key == "merge") sp.merges.push_back(unescape(rest));
    else if (key == "noscores") sp.noscores = true;
    else if (key == "notypes") sp.notypes = true;
    else if (key == "emptymerges") sp.emptymerges = true;
    else if (key == "wrongtypes") sp.wrongtypes = true;
    else if (key == "text") sp.texts.push_back(unescape(rest));
  }
  return sp;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = gpfuzz::scratch_path("tokenizer.gguf");
  Spec sp = parse(std::string(reinterpret_cast<const char*>(data), size));
  gptest::GgufBuilder& g = sp.g;
  if (!sp.tokens.empty()) g.arr_str("tokenizer.ggml.tokens", sp.tokens);
  if (!sp.merges.empty() || sp.emptymerges) g.arr_str("tokenizer.ggml.merges", sp.merges);
  if (!sp.tokens.empty() && !sp.noscores) {
    if (sp.wrongtypes) g.arr_i32("tokenizer.ggml.scores", sp.types);
    else g.arr_f32("tokenizer.ggml.scores", sp.scores);
  }
  if (!sp.tokens.empty() && !sp.notypes) {
    if (sp.wrongtypes) g.arr_str("tokenizer.ggml.token_type", sp.tokens);
    else g.arr_i32("tokenizer.ggml.token_type", sp.types);
  }
  const gptest::Bytes b = g.build();
  gpfuzz::write_file(path, b.data(), b.size());
  std::unique_ptr<gp::Tokenizer> t;
  try {
    gp::GgufFile f(path);
    t = gp::Tokenizer::from_gguf(f);
    gpfuzz::accepted("from_gguf");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("from_gguf", e);
    return 0;
  }
  gpfuzz::exercise_tokenizer(*t, sp.texts);
  return 0;
}
