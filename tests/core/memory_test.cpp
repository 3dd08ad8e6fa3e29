// memory_test.cpp: the host memory cap (core/memory.h): sizes with suffixes,
// where the cap comes from, and that every loader which sizes a buffer from a
// file asks first: a one-line error naming what was asked for and the limit,
// after which the process carries on (a higher cap loads the same file).
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

#include "core/error.h"
#include "core/generate.h"
#include "core/gguf.h"
#include "core/golden.h"
#include "core/memory.h"
#include "core/model.h"
#include "core/tokenizer.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

using namespace gptest;

const std::string kSmolLM2 = std::string(GOLDPATH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kTinyLlama = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/tiny-llama";
constexpr int64_t kMiB = int64_t(1) << 20;
constexpr const char* kRaise = "raise it with --max-host-memory or GOLDPATH_MAX_HOST_MEMORY";

// sets the cap (and optionally the environment) for one test, then restores both
class Cap {
 public:
  explicit Cap(int64_t bytes, const char* env = nullptr) {
    if (const char* e = std::getenv(kHostMemoryEnv)) saved_ = e, had_ = true;
    if (env) ::setenv(kHostMemoryEnv, env, 1);
    else ::unsetenv(kHostMemoryEnv);
    set_host_memory_limit(bytes);
  }
  ~Cap() {
    set_host_memory_limit(0);
    if (had_) ::setenv(kHostMemoryEnv, saved_.c_str(), 1);
    else ::unsetenv(kHostMemoryEnv);
  }

 private:
  std::string saved_;
  bool had_ = false;
};

TEST(HostMemory, ParsesSizesWithSuffixes) {
  EXPECT_EQ(parse_byte_size("123", "x"), 123);
  EXPECT_EQ(parse_byte_size("64K", "x"), 64 << 10);
  EXPECT_EQ(parse_byte_size("64k", "x"), 64 << 10);
  EXPECT_EQ(parse_byte_size("10M", "x"), 10 * kMiB);
  EXPECT_EQ(parse_byte_size("10MB", "x"), 10 * kMiB);
  EXPECT_EQ(parse_byte_size("10MiB", "x"), 10 * kMiB);
  EXPECT_EQ(parse_byte_size("10Mi", "x"), 10 * kMiB);
  EXPECT_EQ(parse_byte_size("1.5G", "x"), 3 * (int64_t(1) << 29));
  EXPECT_EQ(parse_byte_size("2T", "x"), int64_t(2) << 40);
  EXPECT_EQ(parse_byte_size("100b", "x"), 100);
  EXPECT_EQ(parse_byte_size("0.5K", "x"), 512);
  for (const char* bad : {"", "M", "abc", "10X", "10 M", "-5", "1e9", "10MiBs", "1.5.5", "0x10", "10iB"})
    EXPECT_TRUE(fails_with([&] { parse_byte_size(bad, "--max-host-memory"); }, {"--max-host-memory", "not a size"}))
        << "'" << bad << "'";
  EXPECT_TRUE(fails_with([] { parse_byte_size("0", "x"); }, {"at least 1 byte"}));
  EXPECT_TRUE(fails_with([] { parse_byte_size("0.1", "x"); }, {"at least 1 byte"}));
  EXPECT_TRUE(fails_with([] { parse_byte_size("99999999T", "x"); }, {"too large"}));
}

TEST(HostMemory, OverrideBeatsEnvironmentBeatsDefault) {
  const int64_t dflt = default_host_memory_limit();
  EXPECT_GT(dflt, 64 * kMiB);  // 90% of this machine's RAM
  {
    Cap none(0);
    EXPECT_EQ(host_memory_limit(), dflt);
  }
  {
    Cap env(0, "3M");
    EXPECT_EQ(host_memory_limit(), 3 * kMiB);
  }
  {
    Cap both(5 * kMiB, "3M");
    EXPECT_EQ(host_memory_limit(), 5 * kMiB);
  }
  {
    Cap bad_env(0, "lots");
    EXPECT_TRUE(fails_with([] { host_memory_limit(); }, {"GOLDPATH_MAX_HOST_MEMORY", "'lots'"}));
  }
}

TEST(HostMemory, CheckNamesWhatAndTheLimit) {
  Cap cap(kMiB);
  EXPECT_NO_THROW(check_host_alloc(kMiB, "exactly the limit"));
  EXPECT_NO_THROW(check_host_alloc(1024, 1024, "exactly the limit"));
  EXPECT_TRUE(fails_with([] { check_host_alloc(2 * kMiB, "the thing"); },
                         {"the thing: needs 2097152 bytes (2.0 MiB), over the host memory limit of 1.0 MiB; ", kRaise}));
  // rounding would show the same figure twice: the limit is given in bytes too
  EXPECT_TRUE(fails_with([] { check_host_alloc(kMiB + 1, "x"); }, {"limit of 1.0 MiB (1048576 bytes)"}));
  EXPECT_TRUE(fails_with([] { check_host_alloc(int64_t(1) << 40, int64_t(1) << 40, "huge"); }, {"huge", "2^63"}));
}

TEST(HostMemory, TinyCapStopsTheDefaultModelAndALargerOneLoadsIt) {
  ASSERT_TRUE(exists(kSmolLM2)) << "run scripts/fetch_model.sh";
  {
    Cap cap(10 * kMiB);
    EXPECT_TRUE(fails_with([] { load_model(kSmolLM2); },
                           {kSmolLM2, "model weights", "over the host memory limit of 10.0 MiB", kRaise}));
  }
  // the process carries on: the same file loads once the cap allows it
  Cap cap(200 * kMiB);
  auto m = load_model(kSmolLM2);
  EXPECT_GT(m->weight_bytes(), 10 * kMiB);
}

TEST(HostMemory, GgufMetadataArrayOverTheCap) {
  TempDir d;
  GgufBuilder g;
  g.str("general.architecture", "llama");
  g.arr_i32("big.array", std::vector<int32_t>(200000, 7));  // 800 KB in the file, 1.6 MB parsed
  write_file(d / "a.gguf", g.build());
  {
    Cap cap(kMiB);
    EXPECT_TRUE(fails_with([&] { GgufFile f(d / "a.gguf"); },
                           {d / "a.gguf", "array of integers", "'big.array'", "host memory limit"}));
  }
  Cap cap(4 * kMiB);
  EXPECT_EQ(GgufFile(d / "a.gguf").get("big.array").ai.size(), 200000u);
}

TEST(HostMemory, TokenizerIdTableOverTheCap) {
  // two tokens, but an id near 2^30 would size a 32 GiB reverse table
  TempDir d;
  nlohmann::json j = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1000000000}}}, {"merges", nlohmann::json::array()}}}};
  write_file(d / "tokenizer.json", j.dump());
  Cap cap(64 * kMiB);
  EXPECT_TRUE(fails_with([&] { Tokenizer::from_hf_dir(d.path()); },
                         {"tokenizer.json", "ids up to 1000000000", "host memory limit"}));
}

TEST(HostMemory, GoldenDatasetOverTheCap) {
  GoldenFile g(std::string(GOLDPATH_SOURCE_DIR) + "/golden/tiny_llama.h5");
  ASSERT_TRUE(g.exists("/model/logits"));
  const size_t n = g.read_f32("/model/logits").data.size();
  Cap cap((int64_t)n * 4 - 1);
  EXPECT_TRUE(fails_with([&] { g.read_f32("/model/logits"); }, {"tiny_llama.h5", "/model/logits", "host memory limit"}));
}

// a backend that never runs: generate must refuse before the first forward
class NoBackend : public Backend {
 public:
  std::string name() const override { return "none"; }
  void reset() override {}
  void forward(const int32_t*, int, int, float*, bool) override { ADD_FAILURE() << "forward ran"; }
  int64_t memory_bytes() const override { return 0; }
  int vocab_size() const override { return 50000; }
};

TEST(HostMemory, KeptLogitsOverTheCap) {
  ModelConfig cfg;
  cfg.vocab_size = 50000;
  cfg.max_seq_len = 4096;
  GenerateOptions opt;
  opt.max_new_tokens = 1000;  // 1000 x 50000 floats = 190.7 MiB
  opt.keep_logits = true;
  Cap cap(64 * kMiB);
  NoBackend be;
  EXPECT_TRUE(fails_with([&] { generate(be, cfg, {1}, opt); }, {"logits of 1000 steps x 50000 tokens", "190.7 MiB"}));
}

}  // namespace
}  // namespace gp
