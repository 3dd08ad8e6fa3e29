// safetensors_test.cpp: single files, sharded directories with an index, and
// the tiny Hugging Face models from golden/models/ when they are present.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>

#include "core/error.h"
#include "core/safetensors.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

using namespace gptest;


TEST(Safetensors, ReadsDtypesShapesAndData) {
  TempDir dir;
  write_file(dir / "model.safetensors",
             safetensors_bytes({{"w32", "F32", {2, 3}, encode_f32({1, 2, 3, 4, 5, 6})},
                                {"w16", "F16", {3}, encode_f16({0.5f, -1, 2})},
                                {"wbf", "BF16", {1, 2}, encode_bf16({3, -4})},
                                {"scalar", "F32", {}, encode_f32({7})},
                                {"empty", "F32", {0, 4}, {}}}));
  auto ts = load_safetensors_file(dir / "model.safetensors");
  ASSERT_EQ(ts.size(), 5u);  // __metadata__ skipped
  const auto& w = ts.at("w32");
  EXPECT_EQ(w.dtype, DType::F32);
  EXPECT_EQ(w.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w.nbytes, 24);
  float v[6];
  std::memcpy(v, w.data, 24);
  EXPECT_EQ(v[5], 6.0f);
  EXPECT_EQ(ts.at("w16").dtype, DType::F16);
  uint16_t h;
  std::memcpy(&h, ts.at("w16").data, 2);
  EXPECT_EQ(f16_to_f32(h), 0.5f);
  EXPECT_EQ(ts.at("wbf").dtype, DType::BF16);
  std::memcpy(&h, ts.at("wbf").data + 2, 2);
  EXPECT_EQ(bf16_to_f32(h), -4.0f);
  EXPECT_TRUE(ts.at("scalar").shape.empty());
  EXPECT_EQ(ts.at("scalar").nbytes, 4);
  EXPECT_EQ(ts.at("empty").nbytes, 0);
  EXPECT_EQ(w.file.get(), ts.at("w16").file.get());
}

TEST(Safetensors, UnsupportedDtypeNamesTensorAndDtype) {
  TempDir dir;
  write_file(dir / "m.safetensors", safetensors_bytes({{"model.x", "I64", {2}, Bytes(16, 0)}}));
  std::string msg = message_of([&] { load_safetensors_file(dir / "m.safetensors"); });
  EXPECT_NE(msg.find("m.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.x"), std::string::npos) << msg;
  EXPECT_NE(msg.find("I64"), std::string::npos) << msg;
}

TEST(Safetensors, DirectoryWithSingleFile) {
  TempDir dir;
  write_file(dir / "model.safetensors", safetensors_bytes({{"a", "F32", {1}, encode_f32({1})}}));
  auto ts = load_safetensors_dir(dir.path());
  EXPECT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts.count("a"), 1u);
}

TEST(Safetensors, ShardedDirectoryLoadsEachShardOnce) {
  TempDir dir;
  write_file(dir / "s1.safetensors", safetensors_bytes({{"a", "F32", {1}, encode_f32({1})},
                                                        {"b", "F32", {1}, encode_f32({2})}}));
  write_file(dir / "s2.safetensors", safetensors_bytes({{"c", "F16", {2}, encode_f16({3, 4})}}));
  write_file(dir / "model.safetensors.index.json",
             R"({"metadata": {"total_size": 12}, "weight_map": {"a": "s1.safetensors", "b": "s1.safetensors", "c": "s2.safetensors"}})");
  auto ts = load_safetensors_dir(dir.path());
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_EQ(ts.at("a").file.get(), ts.at("b").file.get());  // one mapping per shard
  EXPECT_NE(ts.at("a").file.get(), ts.at("c").file.get());
  EXPECT_EQ(ts.at("c").dtype, DType::F16);
}

TEST(Safetensors, IndexNamingAMissingTensorIsAnError) {
  TempDir dir;
  write_file(dir / "s1.safetensors", safetensors_bytes({{"a", "F32", {1}, encode_f32({1})}}));
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map": {"a": "s1.safetensors", "zz": "s1.safetensors"}})");
  std::string msg = message_of([&] { load_safetensors_dir(dir.path()); });
  EXPECT_NE(msg.find("'zz'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors.index.json"), std::string::npos) << msg;
}

TEST(Safetensors, IndexNamingAMissingShardIsAnError) {
  TempDir dir;
  write_file(dir / "model.safetensors.index.json", R"({"weight_map": {"a": "nope.safetensors"}})");
  std::string msg = message_of([&] { load_safetensors_dir(dir.path()); });
  EXPECT_NE(msg.find("nope.safetensors"), std::string::npos) << msg;
}

TEST(Safetensors, IndexShardOutsideTheDirectoryIsAnError) {
  TempDir dir;
  write_file(dir / "model.safetensors.index.json", R"({"weight_map": {"a": "../x.safetensors"}})");
  EXPECT_THROW(load_safetensors_dir(dir.path()), Error);
}

TEST(Safetensors, EmptyDirectoryNamesTheDirectory) {
  TempDir dir;
  std::string msg = message_of([&] { load_safetensors_dir(dir.path()); });
  EXPECT_NE(msg.find(dir.path()), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

// the tiny models written by golden/make_golden.py, when they are there
TEST(Safetensors, GoldenTinyModels) {
  const std::string root = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/";
  int found = 0;
  for (const char* name : {"tiny-llama", "tiny-phi3"}) {
    std::string dir = root + name;
    if (!exists(dir + "/model.safetensors") && !exists(dir + "/model.safetensors.index.json")) continue;
    ++found;
    auto ts = load_safetensors_dir(dir);
    EXPECT_EQ(ts.count("model.embed_tokens.weight"), 1u) << dir;
    EXPECT_EQ(ts.count("model.norm.weight"), 1u) << dir;
    for (const auto& kv : ts) EXPECT_GT(kv.second.nbytes, 0) << kv.first;
  }
  if (!found) GTEST_SKIP() << "golden/models/tiny-* not present yet";
}

}  // namespace
}  // namespace gp
