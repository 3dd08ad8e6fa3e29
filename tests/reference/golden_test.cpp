// golden_test.cpp: layer 1 of verification: the reference against every golden
// file of golden/MANIFEST.sha256 (per-op vectors, per-layer activations of the
// prefill and decode steps, logits, greedy tokens), with the checks and
// tolerances `goldpath verify` uses (harness/verify.h, core/tolerance.h).
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "core/error.h"
#include "core/golden.h"
#include "tests/core/golden_files.h"
#include "harness/verify.h"
#include "reference/model.h"
#include "reference/registry.h"

namespace gp {
namespace {

using gptest::golden_dir;
using gptest::all_pass;
using gptest::model_golden_files;

// The teacher-forced checks of one file (activations, logits), computed once
// per process for the tests that read them.
const std::vector<CheckResult>& forward_results(const std::string& file) {
  static std::map<std::string, std::vector<CheckResult>> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  GoldenFile g(file);
  auto model = load_model(resolve_model(g.attr_string("/", "goldpath_model")));
  ref::ReferenceBackend be(*model);
  return cache[file] = verify_forward(g, be, *model);
}

class ReferenceVsGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceVsGolden, ManifestMatches) { EXPECT_NO_THROW(check_manifest(GetParam())); }

TEST_P(ReferenceVsGolden, Ops) {
  GoldenFile g(GetParam());
  if (!g.exists("/ops")) GTEST_SKIP() << GetParam() << " has no per-op vectors";
  EXPECT_TRUE(all_pass(verify_ops(g, "reference", ref::reference_ops()), "op "));
}

// one test for every teacher-forced check (each test is its own process under
// ctest, and the forward of the default model takes seconds)
TEST_P(ReferenceVsGolden, ActivationsAndLogits) {
  const auto& rs = forward_results(GetParam());
  EXPECT_TRUE(all_pass(rs, "embedding"));
  EXPECT_TRUE(all_pass(rs, "layer "));
  EXPECT_TRUE(all_pass(rs, "final_norm"));
  EXPECT_TRUE(all_pass(rs, "logits"));
}

TEST_P(ReferenceVsGolden, GreedyTokens) {
  GoldenFile g(GetParam());
  auto model = load_model(resolve_model(g.attr_string("/", "goldpath_model")));
  ref::ReferenceBackend be(*model);
  const CheckResult r = verify_greedy(g, be, *model);
  EXPECT_TRUE(r.pass) << r.detail;
}

std::string file_param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param.substr(info.param.find_last_of('/') + 1);
  s = s.substr(0, s.find('.'));
  std::string out;
  bool up = true;
  for (char c : s) {
    if (!std::isalnum((unsigned char)c)) {
      up = true;
      continue;
    }
    out += up ? (char)std::toupper((unsigned char)c) : c;
    up = false;
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(GoldenFiles, ReferenceVsGolden, ::testing::ValuesIn(model_golden_files()),
                         file_param_name);

TEST(ReferenceVsGoldenSet, EveryManifestEntryMatches) {
  // golden files and the tiny models' config.json / safetensors alike
  const auto problems = manifest_problems(golden_dir());
  for (const auto& p : problems) ADD_FAILURE() << p << " (regenerate with " << kGoldenRegenerate << ")";
}

TEST(ReferenceVsGoldenSet, ManifestListsTheThreeModels) {
  // the goldens this project promises: two tiny models and the default model
  std::vector<std::string> models;
  for (const auto& f : model_golden_files()) models.push_back(GoldenFile(f).attr_string("/", "goldpath_model"));
  std::sort(models.begin(), models.end());
  EXPECT_EQ(models, (std::vector<std::string>{"default", "golden/models/tiny-llama", "golden/models/tiny-phi3"}));
}

}  // namespace
}  // namespace gp
