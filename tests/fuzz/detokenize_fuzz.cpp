// detokenize_fuzz.cpp: libFuzzer target for decode and StreamDecoder
// (core/tokenizer.h) on the real tokenizers: SmolLM2's
// (golden/models/smollm2-tokenizer), tiny-llama's and tiny-phi3's, loaded
// once. The input is byte 0 (which tokenizer, modulo 3), then 4-byte
// little-endian words, one id each: with the top bit clear the id is the word
// modulo (vocab size + 4), so mostly inside the vocabulary and sometimes just
// past it; with the top bit set it is the word as an int32 (negative). Ids are
// decoded in both skip modes and streamed. Ids outside the vocabulary must be
// a gp::Error; ids inside must decode and stream without one, and the
// stream's pieces must join to a prefix of the whole decode (when that has no
// U+FFFD).
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

const std::vector<std::unique_ptr<gp::Tokenizer>>& tokenizers() {
  static const std::vector<std::unique_ptr<gp::Tokenizer>> t = [] {
    std::vector<std::unique_ptr<gp::Tokenizer>> out;
    for (const char* name : {"smollm2-tokenizer", "tiny-llama", "tiny-phi3"})
      out.push_back(gp::Tokenizer::from_hf_dir(gpfuzz::kRoot + "/golden/models/" + name));
    return out;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const gp::Tokenizer& t = *tokenizers()[data[0] % 3];
  const int n = t.vocab_size();
  std::vector<int32_t> ids;
  bool in_range = true;
  for (size_t k = 1; k + 4 <= size; k += 4) {
    uint32_t w;
    std::memcpy(&w, data + k, 4);
    const int32_t id = (w & 0x80000000u) ? (int32_t)w : (int32_t)(w % (uint32_t)(n + 4));
    in_range = in_range && id >= 0 && id < n;
    ids.push_back(id);
  }
  volatile uint64_t sink = 0;
  for (bool skip : {false, true}) {
    std::string whole;
    try {
      whole = t.decode(ids, skip);
      if (!in_range) gpfuzz::broken("decode accepted an id outside the vocabulary");
    } catch (const gp::Error&) {
      if (in_range) throw;
    }
    // where tokenizers' DecodeStream raises InvalidPrefix (byte tokens that
    // are not UTF-8 becoming U+FFFDs, one per byte, once the next token comes)
    // the stream resynchronizes: ids inside the vocabulary never fail it
    std::string streamed;
    bool finished = false;
    try {
      gp::StreamDecoder s(t, skip);
      for (int32_t id : ids) streamed += s.step(id);
      finished = true;
      if (!in_range) gpfuzz::broken("stream decode accepted an id outside the vocabulary");
    } catch (const gp::Error& e) {
      if (in_range) throw;
      gpfuzz::rejected("StreamDecoder", e);
    }
    // (where bytes do not form UTF-8, a window may join them differently than
    // the whole decode does, in tokenizers too: only clean text is compared)
    const bool clean = whole.find("\xEF\xBF\xBD") == std::string::npos;
    if (finished && clean && whole.compare(0, streamed.size(), streamed) != 0)
      gpfuzz::broken("streamed text is not a prefix of the whole decode");
    sink = sink + whole.size() + streamed.size();
  }
  return 0;
}
