// cli_test.cpp: the goldpath command as a user meets it: bad input of every
// kind gives a one-line error and a non-zero exit, never a signal; generate
// reproduces the golden greedy ids.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/golden.h"
#include "harness/verify.h"
#include "tests/harness/run_goldpath.h"

namespace fs = std::filesystem;

namespace gp {
namespace {

std::string default_model() { return std::string(GOLDPATH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"; }

TEST_F(Scratch, TruncatedGgufIsOneLineError) {
  ASSERT_TRUE(fs::exists(default_model())) << "run scripts/fetch_model.sh";
  std::ifstream in(default_model(), std::ios::binary);
  std::string head(1 << 16, '\0');
  in.read(head.data(), head.size());
  for (size_t n : {size_t(0), size_t(3), size_t(4), size_t(8), size_t(16), size_t(24), size_t(100), size_t(4096), head.size()}) {
    const std::string p = write("trunc" + std::to_string(n) + ".gguf", head.substr(0, n));
    EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", p, "--prompt-ids", "1"}), p)) << "truncated at " << n;
  }
}

TEST_F(Scratch, WrongMagicIsOneLineError) {
  const std::string p = write("bad.gguf", std::string("GGUX") + std::string(60, '\0'));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", p, "--prompt-ids", "1"}), "bad.gguf"));
}

TEST_F(Scratch, BrokenHuggingFaceFolderIsOneLineError) {
  // no files at all
  fs::create_directories(dir_ / "empty");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", (dir_ / "empty").string(), "--prompt-ids", "1"}), "empty"));
  // config.json that is not JSON
  write("badjson/config.json", "{\"model_type\": \"llama\", ");
  write("badjson/model.safetensors", std::string(8, '\0'));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", (dir_ / "badjson").string(), "--prompt-ids", "1"}), "config.json"));
  // a valid config with a safetensors header length past the end of the file
  const std::string tiny = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/tiny-llama";
  ASSERT_TRUE(fs::exists(tiny + "/config.json"));
  write("badst/config.json", slurp(tiny + "/config.json"));
  write("badst/model.safetensors", std::string("\xff\xff\xff\x00\x00\x00\x00\x00", 8) + "{}");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", (dir_ / "badst").string(), "--prompt-ids", "1"}), "model.safetensors"));
  // a real safetensors file cut short
  const std::string st = slurp(tiny + "/model.safetensors");
  write("cut/config.json", slurp(tiny + "/config.json"));
  write("cut/model.safetensors", st.substr(0, st.size() / 2));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", (dir_ / "cut").string(), "--prompt-ids", "1"}), "model.safetensors"));
}

TEST_F(Scratch, CorruptGoldenFileIsOneLineError) {
  const std::string g = std::string(GOLDPATH_SOURCE_DIR) + "/golden/tiny_llama.h5";
  ASSERT_TRUE(fs::exists(g));
  const std::string bytes = slurp(g);
  for (size_t n : {size_t(0), size_t(8), size_t(512), bytes.size() / 2, bytes.size() - 1}) {
    const std::string p = write("cut" + std::to_string(n) + ".h5", bytes.substr(0, n));
    EXPECT_TRUE(fails_cleanly(run_goldpath({"verify", "--golden", p}), p)) << "truncated at " << n;
  }
  std::string flipped = bytes;
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 64; i++) flipped[i] ^= 0x5a;
  const std::string p = write("flipped.h5", flipped);
  EXPECT_TRUE(fails_cleanly(run_goldpath({"verify", "--golden", p}), "flipped.h5"));
}

TEST(Cli, BadArgumentsAreOneLineErrors) {
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt-ids", "1,x"}), "prompt-ids"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt-ids", "1", "--top-p", "2"}), "top-p"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt-ids", "1", "--temperature", "-1"}), "temperature"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt-ids", "999999"}), "999999"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "/no/such/model", "--prompt-ids", "1"}), "/no/such/model"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt-ids", "1", "--backend", "tpu"}), "tpu"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt-ids", "1", "--max-new-tokens", "100000"}), "context"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"frobnicate"}), "'frobnicate' is not a goldpath command"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"verify", "--model", "/no/such"}), "/no/such"));
}

// Usage errors exit 2 (not CLI11's internal codes) with one line naming the
// bad word or value in words; help and version are not errors.
TEST(Cli, UsageErrorsExit2NamingTheBadWord) {
  auto usage = [](const std::vector<std::string>& args, const std::string& needle) -> ::testing::AssertionResult {
    const Ran r = run_goldpath(args);
    auto ok = fails_cleanly(r, needle);
    if (!ok) return ok;
    if (r.exit_code != 2) return ::testing::AssertionFailure() << "exit " << r.exit_code << ": " << r.err;
    return ::testing::AssertionSuccess();
  };
  EXPECT_TRUE(usage({"frobnicate"}, "'frobnicate' is not a goldpath command (commands: verify, generate"));
  EXPECT_TRUE(usage({}, "give a command: verify, generate"));
  EXPECT_TRUE(usage({"help", "frobnicate"}, "'frobnicate' is not a goldpath command"));
  EXPECT_TRUE(usage({"verify", "--bogus"}, "--bogus"));
  EXPECT_TRUE(usage({"generate", "--prompt-ids", "1", "--max-new-tokens", "-5"}, "--max-new-tokens: -5 is below 0"));
  EXPECT_TRUE(usage({"generate", "--prompt-ids", "1", "--max-new-tokens", "abc"}, "'abc' is not a whole number"));
  EXPECT_TRUE(usage({"bench", "--repetitions", "0"}, "--repetitions: 0 is below 1"));
  EXPECT_TRUE(usage({"compare", "a", "b", "--alpha", "2"}, "2 is outside 1e-09 to 0.5"));
  EXPECT_TRUE(usage({"generate", "--prompt-ids", ""}, "--prompt-ids is empty"));
  EXPECT_TRUE(usage({"generate", "--prompt-ids", "1,,3"}, "item 2 is empty"));
  EXPECT_TRUE(usage({"generate", "--prompt-ids", "1,x"}, "item 2 'x' is not a token id"));
  EXPECT_TRUE(usage({"generate", "--prompt-ids", "-4"}, "is not a token id"));
  EXPECT_TRUE(usage({"detokenize", "--ids", "5,"}, "item 2 is empty"));
  EXPECT_TRUE(usage({"run", "--max-new-tokens", "0"}, "--max-new-tokens: 0 is below 1"));
  EXPECT_TRUE(usage({"generate", "--prompt-ids", "1", "--seed", "x"}, "--seed x is not a seed"));
  for (const std::vector<std::string>& ok : {std::vector<std::string>{"help"}, {"--help"}, {"help", "bench"}}) {
    const Ran r = run_goldpath(ok);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Usage: goldpath"), std::string::npos) << r.out;
  }
  const Ran v = run_goldpath({"--version"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out.rfind("goldpath 0.", 0), 0u) << v.out;
  EXPECT_NE(v.out.find("commit "), std::string::npos) << v.out;
}

// --seed -1 draws a seed and records it: two runs differ, and a run with the
// recorded seed repeats its tokens. Raw ids in, text out where the model has
// a tokenizer.
TEST(Cli, RandomSeedIsDrawnAndRecordedAndIdsGiveText) {
  auto gen = [](const std::string& seed) {
    return run_goldpath({"generate", "--model", "golden/models/tiny-llama", "--prompt-ids", "1,2,3", "--max-new-tokens",
                         "12", "--temperature", "1.5", "--seed", seed, "--format", "json"});
  };
  const Ran a = gen("-1"), b = gen("-1");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  const uint64_t sa = ja["sampler"]["seed"], sb = jb["sampler"]["seed"];
  EXPECT_NE(sa, sb);
  EXPECT_NE(a.err.find("drew seed " + std::to_string(sa)), std::string::npos) << a.err;
  const Ran again = gen(std::to_string(sa));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["generated_tokens"], ja["generated_tokens"]);
  EXPECT_TRUE(ja.contains("text"));
  const Ran t = run_goldpath({"generate", "--model", "golden/models/tiny-llama", "--prompt-ids", "1,2,3",
                              "--max-new-tokens", "4"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out, nlohmann::json::parse(run_goldpath({"generate", "--model", "golden/models/tiny-llama",
                                                       "--prompt-ids", "1,2,3", "--max-new-tokens", "4", "--format",
                                                       "json"}).out)["text"].get<std::string>() + "\n");
}

// A prompt too long for the context is one line, without the prompt printed first.
TEST(Cli, RunWithAPromptPastTheContextIsOneLine) {
  std::string ids = "1";
  for (int i = 0; i < 200; i++) ids += ",2";
  const Ran r = run_goldpath({"run", "--model", "golden/models/tiny-llama", "--prompt-ids", ids, "--backend", "reference"});
  EXPECT_TRUE(fails_cleanly(r, "exceeds the model's context"));
  EXPECT_EQ(r.out, "");
}

// verify names every backend it did not run, and --require-backend fails
// when a named one cannot run (a GPU CI box with a broken driver).
TEST(Cli, VerifyListsBackendsNotRunAndRequireBackendFails) {
  const Ran r = run_goldpath({"verify", "--model", "golden/models/tiny-phi3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // by default the simulated device is not run, and says so
  EXPECT_NE(r.out.find("not run: backend cuda-sim: "), std::string::npos) << r.out;
  // without a GPU (none in the build, or no device) cuda is listed as not run, and requiring it fails
  if (r.out.find("not run: backend cuda: ") != std::string::npos) {
    EXPECT_TRUE(fails_cleanly(run_goldpath({"verify", "--model", "golden/models/tiny-phi3", "--require-backend", "cuda"}),
                              "--require-backend cuda: backend cuda is not available"));
    EXPECT_TRUE(fails_cleanly(run_goldpath({"verify", "--model", "golden/models/tiny-phi3", "--require-backend", "all"}),
                              "is not available"));
  } else {
    EXPECT_NE(r.out.find("backend cuda:"), std::string::npos) << r.out;  // it ran and described itself
  }
  EXPECT_TRUE(fails_cleanly(run_goldpath({"verify", "--model", "golden/models/tiny-phi3", "--require-backend", "tpu"}),
                            "tpu"));
  const Ran ok = run_goldpath({"verify", "--model", "golden/models/tiny-phi3", "--require-backend", "reference"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

std::vector<int32_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

// generate --format json on a model's golden prompt gives its golden ids
void expect_reproduces_golden(const std::string& golden) {
  GoldenFile g(golden);
  const auto prompt = g.read_i32("/model/prompt_ids").data;
  const auto want = g.read_i32("/model/generated_ids").data;
  std::string ids;
  for (size_t i = 0; i < prompt.size(); i++) ids += (i ? "," : "") + std::to_string(prompt[i]);
  const Ran r = run_goldpath({"generate", "--model", g.attr_string("/", "goldpath_model"), "--prompt-ids", ids,
                              "--max-new-tokens", std::to_string(g.attr_int("/model", "max_new_tokens")), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(ids_of(j["prompt_tokens"]), prompt);
  EXPECT_EQ(ids_of(j["generated_tokens"]), want) << golden;
  EXPECT_TRUE(j["timings"].contains("prefill_s"));
  EXPECT_TRUE(j["timings"].contains("decode_tokens_per_s"));
}

TEST(Cli, GenerateReproducesGoldenTinyLlama) { expect_reproduces_golden(std::string(GOLDPATH_SOURCE_DIR) + "/golden/tiny_llama.h5"); }
TEST(Cli, GenerateReproducesGoldenTinyPhi3) { expect_reproduces_golden(std::string(GOLDPATH_SOURCE_DIR) + "/golden/tiny_phi3.h5"); }
TEST(Cli, GenerateReproducesGoldenDefaultModel) { expect_reproduces_golden(std::string(GOLDPATH_SOURCE_DIR) + "/golden/smollm2_135m.h5"); }

TEST_F(Scratch, RunComparesWithTheGoldenAndWritesOneRecord) {
  ::setenv("GOLDPATH_RUNS_DIR", dir_.c_str(), 1);
  const Ran ok = run_goldpath({"run", "--model", "golden/models/tiny-phi3"});
  const Ran base = run_goldpath({"run", "--model", "golden/models/tiny-phi3", "--prompt-ids", "1,2,3", "--max-new-tokens", "4"});
  ::unsetenv("GOLDPATH_RUNS_DIR");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("tiny_phi3.h5"), std::string::npos) << ok.out;
  ASSERT_EQ(base.exit_code, 0) << base.err;
  EXPECT_NE(base.out.find("compared with the reference"), std::string::npos) << base.out;
  std::vector<nlohmann::json> records;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ASSERT_EQ(e.path().extension(), ".json") << "left behind: " << e.path();
    records.push_back(nlohmann::json::parse(slurp(e.path().string())));
  }
  ASSERT_EQ(records.size(), 2u);
  for (const auto& r : records) {
    EXPECT_TRUE(r["pass"].get<bool>());
    EXPECT_EQ(r["backends"][0]["backend"], "reference");
    EXPECT_TRUE(r["environment"].contains("cpu"));
    EXPECT_EQ(r["kind"], "run");
    EXPECT_EQ(r["format_version"], 1);
    EXPECT_EQ(r["created_utc"].get<std::string>().size(), 20u) << r["created_utc"];
    if (r["compared_with"] == "golden") EXPECT_TRUE(r["backends"][0]["tokens_match"].get<bool>());
    else EXPECT_TRUE(r["backends"][0]["baseline"].get<bool>());
  }
}

TEST(Cli, VerifyPassesEveryGoldenFile) {
  // the model goldens, the tokenizer goldens and the chat templates, one table
  const Ran r = run_goldpath({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
  for (const char* row : {"greedy tokens", "tokenizer smollm2 encode", "chat template phi3", "layer 29"})
    EXPECT_NE(r.out.find(row), std::string::npos) << "no row " << row;
}

TEST(Cli, SampledGenerationIsDeterministicPerSeed) {
  auto gen = [](const std::string& seed) {
    Ran r = run_goldpath({"generate", "--model", "golden/models/tiny-llama", "--prompt-ids", "5,6,7", "--max-new-tokens", "12",
                          "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", seed, "--ignore-eos"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(gen("17"), gen("17"));
  EXPECT_NE(gen("17"), gen("18"));
}

}  // namespace
}  // namespace gp

namespace gp {
namespace {

// llama.cpp's short flags where they mean the same, and --prompt-file
TEST_F(Scratch, ShortFlagsAndPromptFileAsLlamaCppUsersTypeThem) {
  const std::string f = write("prompt.txt", "Hello there");
  const Ran from_file = run_goldpath({"generate", "-m", "golden/models/tiny-llama", "-f", f, "-n", "4", "--format", "json"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  const Ran long_form = run_goldpath({"generate", "--model", "golden/models/tiny-llama", "--prompt", "Hello there",
                                      "--max-new-tokens", "4", "--format", "json"});
  ASSERT_EQ(long_form.exit_code, 0) << long_form.err;
  EXPECT_EQ(nlohmann::json::parse(from_file.out)["generated_tokens"], nlohmann::json::parse(long_form.out)["generated_tokens"]);
  EXPECT_EQ(nlohmann::json::parse(from_file.out)["prompt_tokens"], nlohmann::json::parse(long_form.out)["prompt_tokens"]);
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "-m", "golden/models/tiny-llama", "-p", "x", "-f", f}),
                            "--prompt excludes --prompt-file"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "-m", "golden/models/tiny-llama", "-f", (dir_ / "none.txt").string()}),
                            "none.txt: cannot open"));
  // bench: -m -p -n -d -r -o as llama-bench
  const Ran b = run_goldpath({"bench", "-m", "golden/models/tiny-llama", "-p", "8", "-n", "2", "-d", "0", "-r", "2", "-o", "jsonl"},
                             {{"GOLDPATH_RUNS_DIR", (dir_ / "runs").string()}});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  bool prefill8 = false;
  std::istringstream lines(b.out);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["unit"] == "tokens/s" || j["unit"] == "ms") EXPECT_EQ(j["n"], 2) << line;  // -r 2 timed repetitions
    prefill8 |= j["metric"] == "prefill_tokens_per_s" && j["prompt_length"] == 8;
  }
  EXPECT_TRUE(prefill8) << b.out;
  // run takes the chat message from a file too
  const std::string msg = write("msg.txt", "Create a funny joke about chickens.");
  const Ran r = run_goldpath({"run", "-m", "golden/models/tiny-llama", "-f", msg, "-n", "2", "--backend", "reference"},
                             {{"GOLDPATH_RUNS_DIR", (dir_ / "runs").string()}});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

}  // namespace
}  // namespace gp
