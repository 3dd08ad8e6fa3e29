// fuzz_util.h: what the fuzz targets (tests/fuzz/*_fuzz.cpp) share: a
// scratch folder per process (in $GOLDPATH_FUZZ_SCRATCH, else /dev/shm when it
// exists, so rewriting an input costs no disk I/O), removed at a normal exit,
// and writing an input into it.
// A target writes each input to the same path every call; whatever mapped
// the previous one is destroyed by then.
#pragma once
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/model.h"
#include "core/tokenizer.h"
#include "tests/core/test_files.h"

namespace gpfuzz {

const std::string kRoot = GOLDPATH_SOURCE_DIR;

inline void remove_scratch();

// the scratch folder, made on first use
inline const std::string& scratch() {
  static const std::string dir = [] {
    struct stat st;
    const char* env = std::getenv("GOLDPATH_FUZZ_SCRATCH");
    const bool shm = ::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode);
    const std::string base = env && *env ? env : shm ? "/dev/shm" : "/tmp";
    std::string tmpl = base + "/goldpath-fuzz-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("fuzz: cannot make a scratch folder in " + base);
    return tmpl;
  }();
  static const bool registered = (std::atexit(remove_scratch), true);
  (void)registered;
  return dir;
}

inline void remove_scratch() {
  std::error_code ec;
  std::filesystem::remove_all(scratch(), ec);
}

// scratch()/rel, with its parent folders
inline std::string scratch_path(const std::string& rel) {
  const std::string p = scratch() + "/" + rel;
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  return p;
}

// scratch()/rel as a folder, made
inline std::string scratch_dir(const std::string& rel) {
  const std::string p = scratch() + "/" + rel;
  std::filesystem::create_directories(p);
  return p;
}

inline void write_file(const std::string& path, const void* data, size_t n) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("fuzz: cannot write " + path);
  const bool ok = (n == 0 || std::fwrite(data, 1, n, f) == n);
  if (std::fclose(f) != 0 || !ok) throw std::runtime_error("fuzz: cannot write " + path);
}
inline void write_file(const std::string& path, const std::string& s) { write_file(path, s.data(), s.size()); }

// the weights config_fuzz loads its config.json against (and make_seeds
// writes its seeds for): small Llama dimensions; the Phi-3 model has the same
// dimensions and an untied head, so one safetensors file can hold both
inline gptest::TinyModel config_model(bool phi3) {
  gptest::TinyModel t = phi3 ? gptest::TinyModel::phi3_model() : gptest::TinyModel::llama();
  t.dim = 16;
  t.n_heads = 2;
  t.n_kv_heads = 1;
  t.head_dim = 8;
  t.ffn = 24;
  t.n_layers = 2;
  t.vocab = 32;
  t.max_seq = 64;
  t.sliding_window = phi3 ? 16 : 0;
  t.tied = phi3 ? false : true;
  t.make_weights();
  return t;
}

// an expected rejection; printed when GOLDPATH_FUZZ_VERBOSE is set (to see
// how far a seed or a regression input gets)
inline void rejected(const char* step, const gp::Error& e) {
  static const bool verbose = std::getenv("GOLDPATH_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  %s: %s\n", step, e.what());
}
inline void accepted(const char* step) {
  static const bool verbose = std::getenv("GOLDPATH_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  %s: ok\n", step);
}

// a broken invariant: abort, so the fuzzer reports it as a crash
[[noreturn]] inline void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

// reads every byte of [p, p+n), so a view past its memory faults here
inline uint64_t touch(const uint8_t* p, int64_t n) {
  uint64_t sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += p[k];
  return sum;
}

// every weight view of a loaded model lies inside one of the model's mapped
// files or owned buffers and holds rows * row bytes; then its bytes are read
inline uint64_t check_model_views(const gp::Model& m) {
  auto inside = [&](const gp::TensorView& v) {
    const uint8_t* b = v.data;
    const uint8_t* e = v.data + v.nbytes;
    for (const auto& f : m.files)
      if (b >= f->data() && e <= f->data() + f->size()) return true;
    for (const auto& o : m.owned)
      if (b >= o.data() && e <= o.data() + o.size()) return true;
    return false;
  };
  uint64_t sum = 0;
  auto check = [&](const gp::TensorView& v) {
    if (!v.data || v.nbytes < 0 || !inside(v)) broken("tensor " + v.name + " is outside the model's memory");
    if (v.nbytes != v.rows() * v.row_bytes()) broken("tensor " + v.name + " bytes differ from its shape");
    sum += touch(v.data, v.nbytes);
  };
  check(m.tok_embd);
  check(m.final_norm);
  check(m.lm_head);
  for (const auto& l : m.layers)
    for (const gp::TensorView* t :
         {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down})
      check(*t);
  return sum;
}

// ---------------------------------------------------------------------------
// a loaded tokenizer, exercised: texts encoded (with and without special
// tokens), their ids and some outside the vocabulary decoded in both skip
// modes and streamed, the first 300 ids decoded; gp::Error is allowed throughout
// (ids outside the vocabulary, text that is not UTF-8, a post-processor
// naming an id the vocabulary lacks)

inline const std::vector<std::string>& sample_texts() {
  static const std::vector<std::string> t = {
      "Hello, world! 123 4567",
      "<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n",
      "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] ok </s><unk>",
      "  leading and  double  spaces\t\ttabs\r\n\n newlines  ",
      "h\xC3\xA9llo w\xC3\xB6rld \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80\xF0\x9F\x90\x94 \xE2\x96\x81x <0x41>",
      "don't we'll I'm it's",
      "",
      "\xff not UTF-8",
  };
  return t;
}

inline void decode_every_way(const gp::Tokenizer& t, const std::vector<int32_t>& ids, volatile uint64_t& sink,
                             bool stream = true) {
  for (bool skip : {false, true}) {
    try {
      sink = sink + t.decode(ids, skip).size();
    } catch (const gp::Error&) {
    }
    if (!stream) continue;
    try {
      gp::StreamDecoder s(t, skip);
      for (int32_t id : ids) sink = sink + s.step(id).size();
    } catch (const gp::Error&) {
    }
  }
}

inline void exercise_tokenizer(const gp::Tokenizer& t, const std::vector<std::string>& extra_texts = {}) {
  volatile uint64_t sink = 0;
  const int n = t.vocab_size();
  sink = sink + (uint64_t)n + (uint64_t)t.bos_id() + t.eos_ids().size() + t.bos_token().size() +
         t.eos_token().size() + t.chat_template().size();
  std::vector<std::string> texts = sample_texts();
  texts.insert(texts.end(), extra_texts.begin(), extra_texts.end());
  for (const std::string& text : texts) {
    for (bool special : {false, true}) {
      std::vector<int32_t> ids;
      try {
        ids = t.encode(text, special);
      } catch (const gp::Error&) {
        continue;
      }
      decode_every_way(t, ids, sink);
    }
  }
  std::vector<int32_t> first;
  for (int32_t id = 0; id < n && id < 300; ++id) {
    first.push_back(id);
    try {
      const std::string s = t.token_text(id);
      sink = sink + s.size() + (uint64_t)t.token_id(s) + (uint64_t)t.is_special(id);
    } catch (const gp::Error&) {
    }
  }
  decode_every_way(t, first, sink, false);  // (a stream of 256 byte tokens decodes a growing window each step)
  decode_every_way(t, {n - 1, n, -1, 0}, sink);
}

}  // namespace gpfuzz
