// malformed_test.cpp: broken inputs made from valid ones (truncated and
// patched GGUF files, bad safetensors headers, bad config.json). Each must
// fail with a gp::Error whose message is one line and names the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>

#include "core/error.h"
#include "core/gguf.h"
#include "core/model.h"
#include "core/safetensors.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

using namespace gptest;

// fn throws gp::Error: one printable line, naming file and containing expect
::testing::AssertionResult fails_cleanly(const std::function<void()>& fn, const std::string& file,
                                         const std::string& expect = "") {
  try {
    fn();
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.find('\n') != std::string::npos || msg.find('\r') != std::string::npos)
      return ::testing::AssertionFailure() << "message is not one line: " << msg;
    for (unsigned char c : msg)  // raw bytes from the file are escaped (test paths are ASCII)
      if (c < 0x20 || c >= 0x7f) return ::testing::AssertionFailure() << "raw byte " << (int)c << " in: " << msg;
    if (msg.find(file) == std::string::npos)
      return ::testing::AssertionFailure() << "message does not name " << file << ": " << msg;
    if (msg.find(expect) == std::string::npos)
      return ::testing::AssertionFailure() << "message does not say '" << expect << "': " << msg;
    return ::testing::AssertionSuccess() << msg;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "not a gp::Error: " << e.what();
  }
  return ::testing::AssertionFailure() << "no error";
}

// ---------------------------------------------------------------------------
// GGUF

struct GgufCase : ::testing::Test {
  TempDir dir;
  TinyModel tiny;
  GgufBuilder g;
  Bytes good;
  void SetUp() override {
    tiny.n_layers = 1;
    tiny.make_weights();
    g = tiny.gguf(kGgmlQ8_0);
    g.arr_i32("test.ints", {1, 2, 3});
    g.boolean("test.flag", true);
    good = g.build();
  }
  std::string write(const Bytes& b, const std::string& name = "bad.gguf") {
    write_file(dir / name, b);
    return dir / name;
  }
  // both the reader and load_model reject it cleanly
  ::testing::AssertionResult rejects(const Bytes& b, const std::string& expect = "") {
    std::string p = write(b);
    auto r = fails_cleanly([&] { GgufFile f(p); }, "bad.gguf", expect);
    if (!r) return r;
    return fails_cleanly([&] { load_model(p); }, "bad.gguf", expect);
  }
  // a well-formed GGUF that is not a valid model
  ::testing::AssertionResult rejects_model(const Bytes& b, const std::string& expect = "") {
    std::string p = write(b);
    GgufFile f(p);
    return fails_cleanly([&] { load_model(p); }, "bad.gguf", expect);
  }
  size_t key_pos(const std::string& key) const {  // start of the kv entry with this key
    for (size_t k = 0; k < g.kvs.size(); ++k)
      if (g.kvs[k].key == key) return k == 0 ? g.layout.header_end : g.layout.kv_end[k - 1];
    throw std::runtime_error("no key " + key);
  }
};

TEST_F(GgufCase, ValidFileLoads) {
  auto m = load_model(write(good));
  EXPECT_EQ(m->cfg.n_layers, 1);
}

TEST_F(GgufCase, TruncatedAtEveryByteOfHeaderAndTable) {
  ASSERT_LT(g.layout.data_start, good.size());
  for (size_t n = 0; n < g.layout.data_start + 8; ++n)
    ASSERT_TRUE(rejects(Bytes(good.begin(), good.begin() + (long)n))) << "cut at " << n;
}

TEST_F(GgufCase, TruncatedAtSectionBoundaries) {
  std::set<size_t> cuts = {4, 8, 16, g.layout.header_end, g.layout.data_start, good.size() - 1};
  for (size_t e : g.layout.kv_end) cuts.insert(e);
  for (size_t e : g.layout.tensor_info_end) cuts.insert(e);
  for (size_t c : cuts) {
    std::string expect = c < g.layout.data_start ? "" : "past the end";
    EXPECT_TRUE(rejects(Bytes(good.begin(), good.begin() + (long)c), expect)) << "cut at " << c;
  }
  // the message says where; counts that the bytes left could hold let the cut be found
  Bytes b(good.begin(), good.begin() + (long)g.layout.tensor_info_end[1] + 20);
  poke<uint64_t>(b, 8, 3);  // tensor count
  EXPECT_TRUE(rejects(b, "truncated in tensor table (tensor 3 of 3): tensor name length 22"));
  b.assign(good.begin(), good.begin() + (long)g.layout.tensor_info_end[1] + 8 + 22 + 6);
  poke<uint64_t>(b, 8, 3);
  EXPECT_TRUE(rejects(b, "truncated in tensor table (tensor 3 of 3, 'blk.0.attn_norm.weight')"));
  b.assign(good.begin(), good.begin() + (long)g.layout.kv_end[0] + 12);
  poke<uint64_t>(b, 16, 2);  // kv count
  EXPECT_TRUE(rejects(b, "truncated in metadata (key 2 of 2"));
  b.assign(good.begin(), good.begin() + 20);
  EXPECT_TRUE(rejects(b, "truncated in header"));
}

TEST_F(GgufCase, TruncatedThroughTheData) {
  for (size_t n = g.layout.data_start; n < good.size(); n += 997)
    EXPECT_TRUE(rejects(Bytes(good.begin(), good.begin() + (long)n), "past the end")) << "cut at " << n;
}

TEST_F(GgufCase, WrongMagic) {
  Bytes b = good;
  b[3] = 'G';
  EXPECT_TRUE(rejects(b, "magic"));
  EXPECT_TRUE(rejects(Bytes{'G', 'G'}));
}

TEST_F(GgufCase, UnsupportedVersions) {
  for (uint32_t v : {1u, 99u, 0u, 0x03000000u}) {
    Bytes b = good;
    poke<uint32_t>(b, 4, v);
    EXPECT_TRUE(rejects(b, "version " + std::to_string(v))) << v;
  }
}

TEST_F(GgufCase, HugeCounts) {
  Bytes b = good;
  poke<uint64_t>(b, 16, 1ull << 60);  // kv count
  EXPECT_TRUE(rejects(b, "metadata key count"));
  b = good;
  poke<uint64_t>(b, 16, ~0ull);
  EXPECT_TRUE(rejects(b, "metadata key count"));
  b = good;
  poke<uint64_t>(b, 8, 1ull << 62);  // tensor count
  EXPECT_TRUE(rejects(b, "tensor count"));
  b = good;
  poke<uint64_t>(b, 16, g.kvs.size() + 1);  // one more kv than there is: reads into the tensor table
  EXPECT_TRUE(rejects(b));
}

TEST_F(GgufCase, HugeStringLengths) {
  Bytes b = good;
  poke<uint64_t>(b, g.layout.header_end, 1ull << 62);  // first key's length
  EXPECT_TRUE(rejects(b, "key length"));
  b = good;
  poke<uint64_t>(b, g.layout.header_end, ~0ull);
  EXPECT_TRUE(rejects(b, "key length"));
  b = good;  // general.architecture's value: after its key (8 + 20 bytes) and type (4)
  poke<uint64_t>(b, g.layout.header_end + 8 + 20 + 4, 1ull << 40);
  EXPECT_TRUE(rejects(b, "string length"));
  b = good;  // first tensor's name
  poke<uint64_t>(b, g.layout.kv_end.back(), 1ull << 50);
  EXPECT_TRUE(rejects(b, "tensor name length"));
}

TEST_F(GgufCase, HugeArrayCount) {
  Bytes b = good;
  size_t at = key_pos("tokenizer.ggml.tokens") + 8 + std::string("tokenizer.ggml.tokens").size() + 4 + 4;
  poke<uint64_t>(b, at, 1ull << 59);
  EXPECT_TRUE(rejects(b, "array count"));
  b = good;
  at = key_pos("test.ints") + 8 + 9 + 4 + 4;
  poke<uint64_t>(b, at, 1ull << 62);
  EXPECT_TRUE(rejects(b, "array count"));
}

TEST_F(GgufCase, BadValueTypes) {
  Bytes b = good;
  size_t type_at = key_pos("test.flag") + 8 + 9;
  poke<uint32_t>(b, type_at, 13);
  EXPECT_TRUE(rejects(b, "unknown value type 13"));
  b = good;
  size_t elem_at = key_pos("test.ints") + 8 + 9 + 4;
  poke<uint32_t>(b, elem_at, kArr);
  EXPECT_TRUE(rejects(b, "nested arrays"));
  b = good;
  poke<uint32_t>(b, elem_at, 77);
  EXPECT_TRUE(rejects(b, "unknown value type 77"));
}

TEST_F(GgufCase, U64ValueBeyondInt64) {
  g.u64("test.big", ~0ull);
  EXPECT_TRUE(rejects(g.build(), "does not fit"));
}

TEST_F(GgufCase, BadAlignment) {
  for (uint32_t a : {0u, 3u, 48u}) {
    GgufBuilder h = g;
    h.u32("general.alignment", a);
    EXPECT_TRUE(rejects(h.build(), "general.alignment")) << a;
  }
  GgufBuilder h = g;
  h.str("general.alignment", "32");
  EXPECT_TRUE(rejects(h.build(), "general.alignment"));
}

TEST_F(GgufCase, DuplicateKeyAndTensorName) {
  GgufBuilder h = g;
  h.u32("llama.block_count", 1);
  EXPECT_TRUE(rejects(h.build(), "duplicate key 'llama.block_count'"));
  h = g;
  h.tensors[2].name = h.tensors[1].name;
  EXPECT_TRUE(rejects(h.build(), "duplicate tensor name"));
}

TEST_F(GgufCase, TensorOffsetPastEnd) {
  Bytes b = good;
  poke<uint64_t>(b, g.layout.offset_field.back(), 1ull << 40);
  EXPECT_TRUE(rejects(b, "past the end"));
  b = good;
  poke<uint64_t>(b, g.layout.offset_field.back(), ~0ull - 31);  // offset + size wraps around
  EXPECT_TRUE(rejects(b, "past the end"));
}

TEST_F(GgufCase, UnalignedOffset) {
  Bytes b = good;
  uint64_t off;
  std::memcpy(&off, b.data() + g.layout.offset_field[1], 8);
  poke<uint64_t>(b, g.layout.offset_field[1], off + 2);
  EXPECT_TRUE(rejects(b, "alignment"));
}

TEST_F(GgufCase, OverlappingTensors) {
  GgufBuilder h = g;
  h.tensors[3].offset = 0;  // shares token_embd's bytes
  EXPECT_TRUE(rejects(h.build(), "overlap"));
  Bytes b = good;  // one tensor starting inside the one before it
  uint64_t off;
  std::memcpy(&off, b.data() + g.layout.offset_field[1], 8);
  poke<uint64_t>(b, g.layout.offset_field[1], off - 32);
  EXPECT_TRUE(rejects(b, "overlap"));
}

TEST_F(GgufCase, BadDimensions) {
  Bytes b = good;
  poke<uint64_t>(b, g.layout.ne_field[0], 1ull << 40);
  poke<uint64_t>(b, g.layout.ne_field[0] + 8, 1ull << 40);  // product overflows int64
  EXPECT_TRUE(rejects(b, "overflow"));
  b = good;
  poke<uint64_t>(b, g.layout.ne_field[0], 1ull << 32);
  poke<uint64_t>(b, g.layout.ne_field[0] + 8, 1ull << 31);  // 2^63 elements
  EXPECT_TRUE(rejects(b, "overflow"));
  b = good;
  poke<uint64_t>(b, g.layout.ne_field[0], 0);
  EXPECT_TRUE(rejects(b, "dimension 0 of size 0"));
  b = good;
  poke<uint64_t>(b, g.layout.ne_field[0], ~0ull);
  EXPECT_TRUE(rejects(b, "dimension 0"));
  b = good;
  poke<uint64_t>(b, g.layout.ne_field[0], 33);  // q8_0 rows must be whole blocks
  EXPECT_TRUE(rejects(b, "block size"));
  b = good;
  poke<uint32_t>(b, g.layout.ne_field[0] - 4, 5);  // n_dims
  EXPECT_TRUE(rejects(b, "5 dimensions"));
  b = good;
  poke<uint32_t>(b, g.layout.ne_field[0] - 4, 0);
  EXPECT_TRUE(rejects(b, "0 dimensions"));
}

TEST_F(GgufCase, UnsupportedTensorType) {
  Bytes b = good;
  poke<uint32_t>(b, g.layout.offset_field[0] - 4, 14);  // q6_K
  EXPECT_TRUE(rejects(b, "'token_embd.weight' has ggml type 14 (q6_K)"));
  b = good;
  poke<uint32_t>(b, g.layout.offset_field[0] - 4, 1000);
  EXPECT_TRUE(rejects(b, "ggml type 1000"));
}

TEST_F(GgufCase, ControlCharactersInNamesStayOnOneLine) {
  GgufBuilder h = g;
  h.tensors[0].name = "evil\nname";
  h.tensors[0].type = 14;
  EXPECT_TRUE(rejects(h.build(), "evil\\x0aname"));
}

TEST_F(GgufCase, MissingMetadataKey) {
  GgufBuilder h = g;
  for (size_t k = 0; k < h.kvs.size(); ++k)
    if (h.kvs[k].key == "llama.embedding_length") h.kvs.erase(h.kvs.begin() + (long)k);
  EXPECT_TRUE(rejects_model(h.build(), "llama.embedding_length"));
}

TEST_F(GgufCase, WrongMetadataType) {
  GgufBuilder h = g;
  for (auto& kv : h.kvs)
    if (kv.key == "llama.block_count") {
      kv.type = kStr;
      kv.value.clear();
      put_str(kv.value, "1");
    }
  EXPECT_TRUE(rejects_model(h.build(), "llama.block_count"));
}

TEST_F(GgufCase, ShapeInconsistentWithConfig) {
  GgufBuilder h = g;
  for (auto& kv : h.kvs)
    if (kv.key == "llama.feed_forward_length") kv.value = {64, 0, 0, 0};
  EXPECT_TRUE(rejects_model(h.build(), "expected [64, 64]"));
}

// random bytes of the header and tensor table overwritten (fixed seed): each
// file either loads or fails cleanly; run under GOLDPATH_SANITIZE for reads
TEST_F(GgufCase, RandomCorruptionLoadsOrFailsCleanly) {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&] {  // splitmix64
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  int loaded = 0;
  for (int it = 0; it < 1000; ++it) {
    Bytes b = good;
    int n = 1 + (int)(next() % 4);
    for (int k = 0; k < n; ++k) b[next() % g.layout.data_start] = (uint8_t)next();
    std::string p = write(b);
    try {
      load_model(p);
      ++loaded;
    } catch (const Error&) {
      ASSERT_TRUE(fails_cleanly([&] { load_model(p); }, "bad.gguf")) << "iteration " << it;
    }
  }
  EXPECT_LT(loaded, 1000);
}

// ---------------------------------------------------------------------------
// safetensors

struct StCase : ::testing::Test {
  TempDir dir;
  TinyModel tiny;
  void SetUp() override {
    tiny.n_layers = 1;
    tiny.make_weights();
    tiny.write_hf(dir / "m");
  }
  // a broken model.safetensors: the reader and load_model reject it cleanly
  ::testing::AssertionResult rejects(const Bytes& b, const std::string& expect = "") {
    write_file(dir / "m/model.safetensors", b);
    auto r = fails_cleanly([&] { load_safetensors_file(dir / "m/model.safetensors"); }, "model.safetensors", expect);
    if (!r) return r;
    return fails_cleanly([&] { load_model(dir / "m"); }, "model.safetensors", expect);
  }
  ::testing::AssertionResult rejects_header(const std::string& header, const std::string& expect = "") {
    return rejects(safetensors_raw(header, Bytes(64, 1)), expect);
  }
};

TEST_F(StCase, ValidDirectoryLoads) { EXPECT_EQ(load_model(dir / "m")->cfg.n_layers, 1); }

TEST_F(StCase, TooShortAndHeaderLengthPastEnd) {
  EXPECT_TRUE(rejects(Bytes{}, "too short"));
  EXPECT_TRUE(rejects(Bytes{1, 2, 3}, "too short"));
  Bytes b = safetensors_raw("{}", {});
  poke<uint64_t>(b, 0, 3);
  EXPECT_TRUE(rejects(b, "header length 3 exceeds"));
  poke<uint64_t>(b, 0, ~0ull);
  EXPECT_TRUE(rejects(b, "exceeds"));
}

TEST_F(StCase, HeaderLengthOverTheCap) {
  Bytes b;
  put<uint64_t>(b, 101ull << 20);
  write_file(dir / "m/model.safetensors", b);
  std::filesystem::resize_file(dir / "m/model.safetensors", (101ull << 20) + 16);  // sparse
  EXPECT_TRUE(fails_cleanly([&] { load_model(dir / "m"); }, "model.safetensors", "100 MB"));
}

TEST_F(StCase, BadJson) {
  EXPECT_TRUE(rejects_header("{\"a\": ", "JSON"));
  EXPECT_TRUE(rejects_header("not json at all", "JSON"));
  EXPECT_TRUE(rejects_header("{\"a\":\n\n{\"dtype\": F32}}", "JSON"));  // newlines stay out of the message
  EXPECT_TRUE(rejects_header("", "JSON"));
  EXPECT_TRUE(rejects_header("[1, 2]", "not an object"));
}

TEST_F(StCase, InvalidUtf8InJson) {
  EXPECT_TRUE(rejects_header("{\"w\xff\xfe\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", "JSON"));
  EXPECT_TRUE(rejects_header("{\"w\": {\"dtype\": \"F\xc3\", \"shape\": [1], \"data_offsets\": [0, 4]}}", "JSON"));
}

TEST_F(StCase, DataOffsetsPastEnd) {
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [16], "data_offsets": [4, 68]}})", "past the end"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [18446744073709551608, 0]}})"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", "reversed"));
}

TEST_F(StCase, ShapeOffsetMismatch) {
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", "need 12"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 16]}})", "need 8"));
}

TEST_F(StCase, BadShapesAndFields) {
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "non-negative"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", "non-negative"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 4]}})",
                             "overflows"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [2305843009213693952], "data_offsets": [0, 4]}})",
                             "overflows"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]}})", "shape"));
  EXPECT_TRUE(rejects_header(R"({"w": {"shape": [4], "data_offsets": [0, 16]}})", "dtype"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0]}})", "data_offsets"));
  EXPECT_TRUE(rejects_header(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [-4, 12]}})", "data_offsets"));
  EXPECT_TRUE(rejects_header(R"({"w": [1, 2]})", "not an object"));
  EXPECT_TRUE(rejects_header(R"({"model.w": {"dtype": "F64", "shape": [4], "data_offsets": [0, 32]}})",
                             "'model.w' has dtype 'F64'"));
}

TEST_F(StCase, OverlappingTensors) {
  EXPECT_TRUE(rejects_header(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                             "overlap"));
}

TEST_F(StCase, ShardIndexProblems) {
  std::filesystem::remove(dir / "m/model.safetensors");
  EXPECT_TRUE(fails_cleanly([&] { load_model(dir / "m"); }, dir / "m", "model.safetensors"));
  write_file(dir / "m/model.safetensors.index.json", std::string("{\"weight_map\": "));
  EXPECT_TRUE(fails_cleanly([&] { load_model(dir / "m"); }, "model.safetensors.index.json", "JSON"));
  write_file(dir / "m/model.safetensors.index.json", std::string("{\"weight_map\": {\"a\": 3}}"));
  EXPECT_TRUE(fails_cleanly([&] { load_model(dir / "m"); }, "model.safetensors.index.json", "'a'"));
  write_file(dir / "m/model.safetensors.index.json", std::string("{\"metadata\": {}}"));
  EXPECT_TRUE(fails_cleanly([&] { load_model(dir / "m"); }, "model.safetensors.index.json", "weight_map"));
}

// ---------------------------------------------------------------------------
// config.json

struct ConfigCase : StCase {
  ::testing::AssertionResult rejects_config(const std::string& text, const std::string& expect = "") {
    write_file(dir / "m/config.json", text);
    return fails_cleanly([&] { load_model(dir / "m"); }, "config.json", expect);
  }
};

TEST_F(ConfigCase, MissingRequiredKeys) {
  for (const char* key : {"model_type", "hidden_size", "num_attention_heads", "intermediate_size",
                          "num_hidden_layers", "vocab_size", "max_position_embeddings", "rms_norm_eps"}) {
    nlohmann::json c = tiny.config();
    c.erase(key);
    EXPECT_TRUE(rejects_config(c.dump(), std::string("missing key '") + key + "'"));
    c[key] = nullptr;
    EXPECT_TRUE(rejects_config(c.dump(), key));
  }
}

TEST_F(ConfigCase, WrongTypes) {
  for (const char* key : {"model_type", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
                          "intermediate_size", "num_hidden_layers", "vocab_size", "max_position_embeddings",
                          "rms_norm_eps", "rope_theta", "tie_word_embeddings", "bos_token_id", "eos_token_id",
                          "attention_bias", "mlp_bias", "hidden_act"}) {
    nlohmann::json c = tiny.config();
    c[key] = std::string(key) == "model_type" || std::string(key) == "hidden_act" ? nlohmann::json(5)
                                                                                  : nlohmann::json("64");
    EXPECT_TRUE(rejects_config(c.dump(), key));
  }
  nlohmann::json c = tiny.config();
  c["hidden_size"] = 64.0;
  EXPECT_TRUE(rejects_config(c.dump(), "hidden_size"));
  c = tiny.config();
  c["hidden_size"] = -64;
  EXPECT_TRUE(rejects_config(c.dump(), "hidden_size"));
  c = tiny.config();
  c["num_hidden_layers"] = 1ll << 40;
  EXPECT_TRUE(rejects_config(c.dump(), "num_hidden_layers"));
  c = tiny.config();
  c["eos_token_id"] = {2, "x"};
  EXPECT_TRUE(rejects_config(c.dump(), "eos_token_id"));
}

TEST_F(ConfigCase, BadJsonAndUnknownModelType) {
  EXPECT_TRUE(rejects_config("{\"model_type\": \"llama\",\n", "JSON"));
  EXPECT_TRUE(rejects_config("", "JSON"));
  EXPECT_TRUE(rejects_config("[]", "object"));
  EXPECT_TRUE(rejects_config("{\"model_type\": \"ll\xff\"}", "JSON"));
  nlohmann::json c = tiny.config();
  c["model_type"] = "mistral";
  EXPECT_TRUE(rejects_config(c.dump(), "model_type 'mistral' is not supported"));
  c["model_type"] = "evil\nline";
  EXPECT_TRUE(rejects_config(c.dump(), "model_type"));
}

TEST_F(ConfigCase, InconsistentConfig) {
  nlohmann::json c = tiny.config();
  c["num_key_value_heads"] = 3;
  EXPECT_TRUE(rejects_config(c.dump(), "n_kv_heads"));
  c = tiny.config();
  c["head_dim"] = 15;
  EXPECT_TRUE(rejects_config(c.dump(), "head_dim"));
  c = tiny.config();
  c["intermediate_size"] = 32;  // shapes in the file no longer match
  EXPECT_TRUE(fails_cleanly([&] {
    write_file(dir / "m/config.json", c.dump());
    load_model(dir / "m");
  }, "mlp.gate_proj.weight", "expected [32, 64]"));
}

TEST_F(ConfigCase, MissingConfig) {
  std::filesystem::remove(dir / "m/config.json");
  EXPECT_TRUE(fails_cleanly([&] { load_model(dir / "m"); }, "config.json", "No such file"));
}

}  // namespace
}  // namespace gp
