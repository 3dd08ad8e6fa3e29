// perplexity_test.cpp: `goldpath perplexity`: the scoring against figures
// worked by hand, the default model's perplexity on the shipped text, KL rows
// for every other backend, and bad input as one-line errors.
#include "harness/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "tests/harness/run_goldpath.h"

namespace gp {
namespace {

const std::string kText = std::string(GOLDPATH_SOURCE_DIR) + "/golden/perplexity.txt";

TEST(Perplexity, UniformLogitsGiveTheVocabularySize) {
  // every row uniform: p(right) = 1/V everywhere, so PPL = V and no spread
  const int n = 8;
  const int64_t V = 50;
  std::vector<float> logits(n * V, 0.25f);
  std::vector<int32_t> toks = {1, 7, 3, 9, 0, 49, 2, 5};
  PerplexitySums s;
  score_chunk(logits.data(), toks.data(), n, V, s);
  EXPECT_EQ(s.count, n / 2 - 1);  // rows 4, 5, 6 predict tokens 5, 6, 7: the second half only
  EXPECT_NEAR(s.ppl(), 50.0, 1e-9);
  EXPECT_NEAR(s.ppl_error(), 0.0, 1e-9);
}

TEST(Perplexity, ScoresOnlyTheSecondHalfAgainstTheNextToken) {
  // V = 2; a row that gives the next token probability p adds -log p
  const int n = 4;
  std::vector<float> logits(n * 2, 0.0f);
  logits[2 * 2 + 1] = std::log(3.0f);  // row 2: p(1) = 3/4, predicts toks[3] = 1
  std::vector<int32_t> toks = {0, 0, 0, 1};
  PerplexitySums s;
  score_chunk(logits.data(), toks.data(), n, 2, s);
  ASSERT_EQ(s.count, 1);
  EXPECT_NEAR(s.nll, -std::log(0.75), 1e-6);
  EXPECT_NEAR(s.ppl(), 4.0 / 3.0, 1e-6);
  // a second chunk where the model is sure of the wrong token widens the spread
  std::vector<float> bad(n * 2, 0.0f);
  bad[2 * 2 + 0] = 10.0f;
  score_chunk(bad.data(), toks.data(), n, 2, s);
  EXPECT_EQ(s.count, 2);
  EXPECT_GT(s.ppl_error(), 1.0);
  std::vector<int32_t> outside = {0, 0, 0, 2};
  EXPECT_THROW(score_chunk(logits.data(), outside.data(), n, 2, s), std::exception);
}

TEST(Perplexity, KlDivergenceOfKnownDistributions) {
  const float a[2] = {0.0f, 0.0f};            // (1/2, 1/2)
  const float b[2] = {std::log(3.0f), 0.0f};  // (3/4, 1/4)
  double pa = 0, pb = 0;
  EXPECT_NEAR(kl_divergence_row(a, a, 2, 0, &pa, &pb), 0.0, 1e-12);
  // KL(a||b) = 1/2 log((1/2)/(3/4)) + 1/2 log((1/2)/(1/4)) = 1/2 log(4/3)
  EXPECT_NEAR(kl_divergence_row(a, b, 2, 0, &pa, &pb), 0.5 * std::log(4.0 / 3.0), 1e-7);
  EXPECT_NEAR(pa, 0.5, 1e-7);
  EXPECT_NEAR(pb, 0.75, 1e-7);
}

// The default model (SmolLM2-135M-Instruct Q4_1) on the shipped English text:
// a fluent text gives a perplexity far below the vocabulary's 49152 and above
// 1 (a model that scored everything right would be broken, or the text in
// its training data). A wrong BOS, off-by-one scoring or a broken forward
// pass moves it out of this range.
TEST(Perplexity, DefaultModelOnTheShippedText) {
  const std::string m = std::string(GOLDPATH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  ASSERT_TRUE(std::filesystem::exists(m)) << "run scripts/fetch_model.sh";
  const Ran r = run_goldpath({"perplexity", "-m", "default", "-f", kText, "-c", "128", "--chunks", "2", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u) << r.out;
  EXPECT_EQ(j[0]["backend"], "reference");
  EXPECT_EQ(j[0]["tokens_scored"], 2 * 63);
  const double ppl = j[0]["ppl"];
  EXPECT_GT(ppl, 2.0);
  EXPECT_LT(ppl, 60.0);
  EXPECT_GT(j[0]["ppl_error"].get<double>(), 0.0);
  // SmolLM2's tokenizer adds no BOS, so none is put first (llama-perplexity's add_bos rule) ...
  EXPECT_EQ(r.err.find("BOS first"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 chunks of 128"), std::string::npos) << r.err;
}

// ... while one that adds BOS has it at the start of every chunk.
TEST(Perplexity, BosFirstWhereTheTokenizerAddsIt) {
  const Ran r = run_goldpath({"perplexity", "-m", "golden/models/tiny-phi3", "-f", kText, "-c", "32", "--chunks", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("BOS first"), std::string::npos) << r.err;
}

// Every backend but the reference gets KL rows against it; the simulated
// device runs the same kernels as a GPU, so its figures are those of a close
// but not bitwise-equal backend.
TEST(Perplexity, EveryOtherBackendGetsKlRows) {
  const Ran r = run_goldpath({"perplexity", "-m", "golden/models/tiny-llama", "-f", kText, "-c", "64", "--chunks", "2",
                              "--backend", "all", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j.size(), 1u);
  EXPECT_EQ(j[0]["backend"], "reference");
  EXPECT_FALSE(j[0].contains("kl_mean"));
  bool sim = false;
  for (size_t k = 1; k < j.size(); k++) {
    const auto& row = j[k];
    sim |= row["backend"] == "cuda-sim";
    for (const char* f : {"kl_mean", "kl_median", "kl_p99", "kl_max", "top1_agreement", "mean_delta_p"})
      ASSERT_TRUE(row.contains(f)) << row.dump();
    EXPECT_GE(row["kl_mean"].get<double>(), 0.0);
    EXPECT_LT(row["kl_max"].get<double>(), 0.01) << row.dump();  // f16 kernels against the f32 reference
    EXPECT_LE(row["kl_median"].get<double>(), row["kl_p99"].get<double>());
    EXPECT_LE(row["kl_p99"].get<double>(), row["kl_max"].get<double>());
    EXPECT_GT(row["top1_agreement"].get<double>(), 0.9);
    EXPECT_NEAR(row["ppl"].get<double>(), j[0]["ppl"].get<double>(), 0.02 * j[0]["ppl"].get<double>());
  }
#ifdef GOLDPATH_HAVE_SIM
  EXPECT_TRUE(sim) << "this build has the simulated device, but --backend all did not run it:\n" << r.out;
#endif
  // the table names each backend
  const Ran t = run_goldpath({"perplexity", "-m", "golden/models/tiny-llama", "-f", kText, "-c", "64", "--chunks", "1"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("KL mean"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("reference"), std::string::npos) << t.out;
}

TEST_F(Scratch, PerplexityBadInputIsOneLine) {
  EXPECT_TRUE(fails_cleanly(run_goldpath({"perplexity", "-m", "golden/models/tiny-llama", "-f", (dir_ / "none.txt").string()}),
                            "none.txt: cannot open"));
  const std::string shrt = write("short.txt", "Only a few words here.");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"perplexity", "-m", "golden/models/tiny-llama", "-f", shrt, "-c", "64"}),
                            "perplexity needs at least 2 x --ctx-size"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"perplexity", "-m", "golden/models/tiny-llama", "-f", kText, "-c", "4096"}),
                            "exceeds the model's context of 128"));
  const Ran two = run_goldpath({"perplexity", "-m", "golden/models/tiny-llama", "-f", kText, "-c", "2"});
  EXPECT_EQ(two.exit_code, 2) << two.err;
  EXPECT_TRUE(fails_cleanly(run_goldpath({"perplexity", "-m", "golden/models/tiny-llama"}), "--file"));
}

}  // namespace
}  // namespace gp
