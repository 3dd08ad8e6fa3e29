// gguf_test.cpp: the GGUF reader on files written here (every metadata type,
// alignment, v2, data pointers) and on the default SmolLM2 GGUF when fetched;
// and the MappedFile it reads through.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include "core/error.h"
#include "core/gguf.h"
#include "core/mapped_file.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

using namespace gptest;

const std::string kSmolLM2 = std::string(GOLDPATH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

GgufBuilder two_tensor_file() {
  GgufBuilder g;
  g.str("general.architecture", "llama");
  g.u32("test.u32", 7);
  g.tensor("a", {32, 2}, kGgmlF32, encode_f32(std::vector<float>(64, 1.5f)));
  g.tensor("b", {3}, kGgmlF16, encode_f16({1, 2, 3}));
  return g;
}

TEST(Gguf, AllMetadataTypes) {
  TempDir dir;
  GgufBuilder g;
  g.scalar<uint8_t>("u8", kU8, 200);
  g.scalar<int8_t>("i8", kI8, -100);
  g.scalar<uint16_t>("u16", kU16, 60000);
  g.scalar<int16_t>("i16", kI16, -30000);
  g.u32("u32", 4000000000u);
  g.i32("i32", -2000000000);
  g.f32("f32", 0.25f);
  g.boolean("bool", true);
  g.str("string", "h\xc3\xa9llo");
  g.u64("u64", 1ull << 40);
  g.scalar<int64_t>("i64", kI64, -(1ll << 50));
  g.f64("f64", 1e-300);
  g.arr_str("arr.str", {"x", "", "yz"});
  g.arr_i32("arr.i32", {1, -2, 3});
  g.arr_f32("arr.f32", {0.5f, -1.0f});
  write_file(dir / "m.gguf", g.build());

  GgufFile f(dir / "m.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata().size(), 15u);
  EXPECT_EQ(f.get_int("u8"), 200);
  EXPECT_EQ(f.get_int("i8"), -100);
  EXPECT_EQ(f.get_int("u16"), 60000);
  EXPECT_EQ(f.get_int("i16"), -30000);
  EXPECT_EQ(f.get_int("u32"), 4000000000ll);
  EXPECT_EQ(f.get_int("i32"), -2000000000);
  EXPECT_EQ(f.get_float("f32"), 0.25);
  EXPECT_EQ(f.get("bool").type, GgufType::BOOL);
  EXPECT_EQ(f.get("bool").i, 1);
  EXPECT_EQ(f.get_string("string"), "h\xc3\xa9llo");
  EXPECT_EQ(f.get_int("u64"), 1ll << 40);
  EXPECT_EQ(f.get_int("i64"), -(1ll << 50));
  EXPECT_EQ(f.get_float("f64"), 1e-300);
  EXPECT_EQ(f.get_float("u32"), 4e9);  // integers read as floats too
  EXPECT_EQ(f.get("arr.str").elem_type, GgufType::STRING);
  EXPECT_EQ(f.get("arr.str").as, (std::vector<std::string>{"x", "", "yz"}));
  EXPECT_EQ(f.get("arr.i32").ai, (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.get("arr.f32").af, (std::vector<double>{0.5, -1.0}));
  EXPECT_TRUE(f.tensors().empty());
}

TEST(Gguf, TypedGettersNameTheKey) {
  TempDir dir;
  GgufBuilder g;
  g.str("s", "text");
  g.u32("n", 5);
  write_file(dir / "m.gguf", g.build());
  GgufFile f(dir / "m.gguf");
  EXPECT_EQ(f.get_int_or("missing", 42), 42);
  EXPECT_EQ(f.get_float_or("missing", 0.5), 0.5);
  EXPECT_EQ(f.get_int_or("n", 42), 5);
  EXPECT_FALSE(f.has("missing"));
  for (auto fn : {+[](const GgufFile& f) { f.get_int("s"); }, +[](const GgufFile& f) { f.get_float("s"); },
                  +[](const GgufFile& f) { f.get_string("n"); }, +[](const GgufFile& f) { f.get("nope"); },
                  +[](const GgufFile& f) { f.get_int_or("s", 1); }}) {
    try {
      fn(f);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("m.gguf"), std::string::npos) << msg;
      EXPECT_TRUE(msg.find("'s'") != std::string::npos || msg.find("'n'") != std::string::npos ||
                  msg.find("'nope'") != std::string::npos)
          << msg;
    }
  }
}

TEST(Gguf, TensorTableAndData) {
  TempDir dir;
  GgufBuilder g = two_tensor_file();
  Bytes bytes = g.build();
  write_file(dir / "m.gguf", bytes);
  GgufFile f(dir / "m.gguf");
  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensorInfo* a = f.find("a");
  const GgufTensorInfo* b = f.find("b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(f.find("c"), nullptr);
  EXPECT_EQ(a->ne, (std::vector<int64_t>{32, 2}));
  EXPECT_EQ(a->dtype, DType::F32);
  EXPECT_EQ(a->nbytes, 256);
  EXPECT_EQ(a->offset, 0u);
  EXPECT_EQ(a->data, f.file()->data() + g.layout.data_start);
  EXPECT_EQ(b->dtype, DType::F16);
  EXPECT_EQ(b->ggml_type, 1u);
  EXPECT_EQ(b->offset, 256u);
  EXPECT_EQ(b->nbytes, 6);
  float first;
  std::memcpy(&first, a->data, 4);
  EXPECT_EQ(first, 1.5f);
  uint16_t h;
  std::memcpy(&h, b->data + 4, 2);
  EXPECT_EQ(f16_to_f32(h), 3.0f);
}

TEST(Gguf, CustomAlignment) {
  TempDir dir;
  GgufBuilder g = two_tensor_file();
  g.alignment = 64;
  g.u32("general.alignment", 64);
  g.tensors[0] = {"a", {2}, kGgmlF32, encode_f32({1, 2}), std::nullopt};  // 8 bytes, next tensor at 64
  write_file(dir / "m.gguf", g.build());
  EXPECT_EQ(g.layout.data_start % 64, 0u);
  GgufFile f(dir / "m.gguf");
  EXPECT_EQ(f.find("b")->offset, 64u);
  EXPECT_EQ(f.find("b")->data, f.file()->data() + g.layout.data_start + 64);
}

TEST(Gguf, AcceptsVersion2) {
  TempDir dir;
  GgufBuilder g = two_tensor_file();
  g.version = 2;
  write_file(dir / "m.gguf", g.build());
  GgufFile f(dir / "m.gguf");
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.tensors().size(), 2u);
}

TEST(Gguf, AllSupportedTensorTypes) {
  TempDir dir;
  GgufBuilder g;
  g.tensor("f32", {32}, kGgmlF32, Bytes(128, 0));
  g.tensor("f16", {32}, kGgmlF16, Bytes(64, 0));
  g.tensor("bf16", {32}, kGgmlBF16, Bytes(64, 0));
  g.tensor("q8_0", {32, 3}, kGgmlQ8_0, Bytes(3 * 34, 0));
  g.tensor("q4_0", {64}, kGgmlQ4_0, Bytes(36, 0));
  g.tensor("q4_1", {32}, kGgmlQ4_1, Bytes(20, 0));
  write_file(dir / "m.gguf", g.build());
  GgufFile f(dir / "m.gguf");
  EXPECT_EQ(f.find("bf16")->dtype, DType::BF16);
  EXPECT_EQ(f.find("q8_0")->dtype, DType::Q8_0);
  EXPECT_EQ(f.find("q8_0")->nbytes, 102);
  EXPECT_EQ(f.find("q4_0")->dtype, DType::Q4_0);
  EXPECT_EQ(f.find("q4_0")->nbytes, 36);
  EXPECT_EQ(f.find("q4_1")->dtype, DType::Q4_1);
}

TEST(Gguf, UnsupportedTensorTypeNamesTensorAndType) {
  TempDir dir;
  GgufBuilder g;
  g.tensor("blk.0.attn_q.weight", {256}, 12 /* q4_K */, Bytes(144, 0));
  write_file(dir / "m.gguf", g.build());
  try {
    GgufFile f(dir / "m.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("blk.0.attn_q.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("12"), std::string::npos) << msg;
    EXPECT_NE(msg.find("q4_K"), std::string::npos) << msg;
  }
}

TEST(Gguf, EmptyFileIsAnError) {
  TempDir dir;
  write_file(dir / "empty.gguf", std::string());
  EXPECT_THROW(GgufFile(dir / "empty.gguf"), Error);
  EXPECT_THROW(GgufFile(dir / "missing.gguf"), Error);
  EXPECT_THROW(GgufFile(dir.path()), Error);  // a directory
}

// ---------------------------------------------------------------------------
// MappedFile

TEST(MappedFile, MapsAndChecksBounds) {
  TempDir dir;
  write_file(dir / "ten", std::string("0123456789"));
  MappedFile f(dir / "ten");
  EXPECT_EQ(f.path(), dir / "ten");
  ASSERT_EQ(f.size(), 10);
  EXPECT_EQ(f.data()[9], '9');
  EXPECT_TRUE(f.contains(0, 10));
  EXPECT_TRUE(f.contains(10, 0));
  EXPECT_TRUE(f.contains(3, 7));
  EXPECT_FALSE(f.contains(3, 8));
  EXPECT_FALSE(f.contains(11, 0));
  EXPECT_FALSE(f.contains(-1, 1));
  EXPECT_FALSE(f.contains(1, -1));
  EXPECT_FALSE(f.contains(5, std::numeric_limits<int64_t>::max()));
  EXPECT_FALSE(f.contains(std::numeric_limits<int64_t>::max(), 1));
}

TEST(MappedFile, EmptyFileMapsNothing) {
  TempDir dir;
  write_file(dir / "empty", std::string());
  MappedFile f(dir / "empty");
  EXPECT_EQ(f.size(), 0);
  EXPECT_EQ(f.data(), nullptr);
  EXPECT_TRUE(f.contains(0, 0));
  EXPECT_FALSE(f.contains(0, 1));
}

TEST(MappedFile, ErrorsNamePathAndReason) {
  TempDir dir;
  for (const auto& [path, reason] : {std::pair<std::string, std::string>{dir / "missing", "No such file"},
                                     {dir.path(), "Is a directory"}}) {
    try {
      MappedFile f(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), path + ": " + std::strerror(reason[0] == 'N' ? ENOENT : EISDIR));
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  }
}

// ---------------------------------------------------------------------------
// the default model

TEST(Gguf, SmolLM2Metadata) {
  if (!exists(kSmolLM2)) GTEST_SKIP() << "default model not fetched; run scripts/fetch_model.sh";
  GgufFile f(kSmolLM2);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata().size(), 33u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 30);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 576);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 9);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 3);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 1536);
  EXPECT_EQ(f.get_int("llama.context_length"), 8192);
  EXPECT_EQ(f.get_int("llama.rope.dimension_count"), 64);
  EXPECT_EQ(f.get_float("llama.rope.freq_base"), 100000.0);
  EXPECT_FLOAT_EQ((float)f.get_float("llama.attention.layer_norm_rms_epsilon"), 1e-5f);
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 2);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get("tokenizer.ggml.tokens").as.size(), 49152u);
  EXPECT_EQ(f.get("tokenizer.ggml.tokens").as[2], "<|im_end|>");
  EXPECT_EQ(f.get("tokenizer.ggml.merges").as.size(), 48900u);
}

TEST(Gguf, SmolLM2Tensors) {
  if (!exists(kSmolLM2)) GTEST_SKIP() << "default model not fetched; run scripts/fetch_model.sh";
  GgufFile f(kSmolLM2);
  ASSERT_EQ(f.tensors().size(), 272u);  // 30 layers x 9 + token_embd + output_norm (tied: no output.weight)
  EXPECT_EQ(f.find("output.weight"), nullptr);
  const GgufTensorInfo* e = f.find("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dtype, DType::Q8_0);
  EXPECT_EQ(e->ne, (std::vector<int64_t>{576, 49152}));
  std::map<DType, int> count;
  for (const auto& t : f.tensors()) {
    count[t.dtype]++;
    bool norm = t.name.find("norm") != std::string::npos;
    if (norm) EXPECT_EQ(t.dtype, DType::F32) << t.name;
    else if (t.name != "token_embd.weight") EXPECT_EQ(t.dtype, DType::Q4_1) << t.name;
  }
  EXPECT_EQ(count[DType::Q4_1], 210);
  EXPECT_EQ(count[DType::F32], 61);
  EXPECT_EQ(count[DType::Q8_0], 1);
  EXPECT_EQ(f.find("blk.0.attn_k.weight")->ne, (std::vector<int64_t>{576, 192}));
  EXPECT_EQ(f.find("blk.29.ffn_down.weight")->ne, (std::vector<int64_t>{1536, 576}));
}

}  // namespace
}  // namespace gp
