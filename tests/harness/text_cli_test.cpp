// text_cli_test.cpp: text in, text out through the goldpath command: the main
// job's chat prompt gives transformers' answer, and bad text input of every
// kind is a one-line error.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/golden.h"
#include "tests/core/test_files.h"
#include "tests/harness/run_goldpath.h"

namespace fs = std::filesystem;

namespace gp {
namespace {

const std::string kRoot = GOLDPATH_SOURCE_DIR;

TEST(TextCli, ChatGenerationPrintsTheGoldenText) {
  GoldenFile g(kRoot + "/golden/smollm2_135m.h5");
  const Ran r = run_goldpath({"generate", "--model", "default", "--chat", "--prompt", g.attr_string("/", "prompt"),
                              "--max-new-tokens", "64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, g.attr_string("/model", "text") + "\n");
}

TEST(TextCli, TokenizeAndDetokenizeRoundTrip) {
  const Ran t = run_goldpath({"tokenize", "--model", "default", "--text", "Hello world, 12345 <|im_end|>", "--format", "json"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const auto ids = nlohmann::json::parse(t.out)["ids"].get<std::vector<int32_t>>();
  ASSERT_FALSE(ids.empty());
  std::string csv;
  for (size_t i = 0; i < ids.size(); i++) csv += (i ? "," : "") + std::to_string(ids[i]);
  const Ran d = run_goldpath({"detokenize", "--model", "default", "--ids", csv});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "Hello world, 12345 <|im_end|>\n");
  const Ran s = run_goldpath({"detokenize", "--model", "default", "--ids", csv, "--skip-special"});
  EXPECT_EQ(s.out, "Hello world, 12345 \n");
}

TEST_F(Scratch, InvalidUtf8PromptFileIsOneLineError) {
  const std::string p = (dir_ / "bad.txt").string();
  gptest::write_file(p, std::string("caf\xc3 au lait \xff"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "--model", "default", "--file", p}), "UTF-8"));
}

TEST_F(Scratch, GgufWithoutTokenizerIsOneLineError) {
  gptest::TinyModel t = gptest::TinyModel::llama();
  t.make_weights();
  const std::string p = (dir_ / "notok.gguf").string();
  gptest::write_file(p, t.gguf().build());
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "--model", p, "--text", "hi"}), "tokenizer"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", p, "--prompt", "hi"}), "tokenizer"));
}

// a copy of the tiny Llama folder with one file replaced
std::string tiny_copy(const fs::path& dir, const std::string& name, const std::string& content) {
  const fs::path src = kRoot + "/golden/models/tiny-llama";
  fs::copy(src, dir / "m", fs::copy_options::recursive);
  gptest::write_file((dir / "m" / name).string(), content);
  return (dir / "m").string();
}

TEST_F(Scratch, UnknownChatTemplateIsOneLineErrorQuotingIt) {
  const std::string m = tiny_copy(dir_, "tokenizer_config.json",
                                  R"({"bos_token": "<|endoftext|>", "eos_token": "<|im_end|>",
                                      "chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]\n{% endfor %}"})");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", m, "--chat", "--prompt", "hi"}), "[{{ m.role }}]"));
}

TEST_F(Scratch, UnsupportedTokenizerModelIsOneLineError) {
  const std::string m = tiny_copy(dir_, "tokenizer.json",
                                  R"({"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
                                      "post_processor": null, "decoder": null,
                                      "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}})");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "--model", m, "--text", "hi"}), "WordPiece"));
}

TEST(TextCli, BadTextArgumentsAreOneLineErrors) {
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt", "a", "--prompt-ids", "1"}), "exactly one"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--chat", "--prompt-ids", "1"}), "--chat"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "--model", "default"}), "--text"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"detokenize", "--model", "default", "--ids", "99999999"}), "99999999"));
}

}  // namespace
}  // namespace gp
