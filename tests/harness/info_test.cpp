// info_test.cpp: `goldpath info` against what the model files say, and
// `--list-backends` naming why a backend cannot run.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/harness/run_goldpath.h"

namespace gp {
namespace {

nlohmann::json info_json(const std::vector<std::string>& args) {
  std::vector<std::string> a = {"info"};
  a.insert(a.end(), args.begin(), args.end());
  a.insert(a.end(), {"--format", "json"});
  const Ran r = run_goldpath(a);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out.empty() ? "{}" : r.out);
}

TEST(Info, HuggingFaceFolderAsItsConfigSaysIt) {
  const std::string dir = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/tiny-phi3";
  std::ifstream in(dir + "/config.json");
  const auto cfg = nlohmann::json::parse(in);
  const auto j = info_json({dir});
  EXPECT_EQ(j["format"], "safetensors");
  EXPECT_EQ(j["config"]["architecture"], "phi3");
  EXPECT_EQ(j["config"]["dim"], cfg["hidden_size"]);
  EXPECT_EQ(j["config"]["layers"], cfg["num_hidden_layers"]);
  EXPECT_EQ(j["config"]["ffn_dim"], cfg["intermediate_size"]);
  EXPECT_EQ(j["config"]["vocab_size"], cfg["vocab_size"]);
  EXPECT_EQ(j["config"]["sliding_window"], cfg["sliding_window"]);
  EXPECT_EQ(j["tokenizer"]["chat_template"], "phi3");
  // every weight is listed once with its dtype and shape; the bytes add up
  int64_t bytes = 0;
  for (const auto& t : j["tensors"]) {
    EXPECT_EQ(t["dtype"], "f32") << t.dump();
    int64_t n = 4;
    for (int64_t d : t["shape"]) n *= d;
    EXPECT_EQ(t["bytes"], n) << t.dump();
    bytes += n;
  }
  EXPECT_EQ(j["weight_bytes"], bytes);
  EXPECT_EQ(j["tensors"].size(), 3u + 9u * cfg["num_hidden_layers"].get<size_t>());  // embed, norm, head; 9 per layer (qkv and gate_up split)
  // memory is planned for every backend; the parts add up to the total
  ASSERT_GE(j["memory"].size(), 1u);
  for (const auto& m : j["memory"])
    EXPECT_EQ(m["total"].get<int64_t>(), m["weights"].get<int64_t>() + m["kv_cache"].get<int64_t>() +
                                             m["activations"].get<int64_t>() + m["workspace"].get<int64_t>() +
                                             m["context"].get<int64_t>())
        << m.dump();
}

TEST(Info, DefaultModelDtypesTemplateAndKvCacheForAContext) {
  ASSERT_TRUE(std::filesystem::exists(std::string(GOLDPATH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
      << "run scripts/fetch_model.sh";
  const auto j = info_json({"default", "-c", "1024", "--no-tensors"});
  EXPECT_FALSE(j.contains("tensors"));
  EXPECT_EQ(j["format"], "gguf");
  EXPECT_EQ(j["config"]["layers"], 30);
  EXPECT_TRUE(j["dtypes"].contains("q4_1")) << j["dtypes"].dump();
  EXPECT_EQ(j["tokenizer"]["chat_template"], "chatml");
  EXPECT_EQ(j["tokenizer"]["bos"], "<|im_start|>");
  bool ref = false;
  for (const auto& m : j["memory"])
    if (m["backend"] == "reference") {  // K and V, f32, per layer, per KV head
      ref = true;
      EXPECT_EQ(m["kv_cache"], 2LL * 30 * 3 * 64 * 4 * 1024);
      EXPECT_EQ(m["context_tokens"], 1024);
    }
  EXPECT_TRUE(ref);
  // the table names the model, the template and the tensors
  const Ran t = run_goldpath({"info", "default"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  for (const char* s : {"30 layers", "chat template chatml", "q4_1", "blk.0.attn_q.weight", "KV cache"})
    EXPECT_NE(t.out.find(s), std::string::npos) << s << "\n" << t.out;
}

TEST(Info, ListBackendsSaysWhyOneCannotRun) {
  const Ran r = run_goldpath({"info", "--list-backends", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  bool ref = false;
  for (const auto& b : j) {
    if (b["name"] == "reference") ref = b["available"];
    if (!b["available"]) EXPECT_FALSE(b["why_not"].get<std::string>().empty()) << b.dump();
  }
  EXPECT_TRUE(ref);
  const Ran top = run_goldpath({"--list-backends"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_NE(top.out.find("reference"), std::string::npos);
  EXPECT_NE(top.out.find("why not"), std::string::npos) << top.out;
}

TEST_F(Scratch, InfoBadInputIsOneLine) {
  EXPECT_TRUE(fails_cleanly(run_goldpath({"info"}), "give a model"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"info", (dir_ / "nothing.gguf").string()}), "nothing.gguf"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"info", "golden/models/tiny-llama", "-c", "100000"}),
                            "exceeds the model's context of 128"));
}

}  // namespace
}  // namespace gp
