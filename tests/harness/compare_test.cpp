// compare_test.cpp: `goldpath compare`, the regression gate, run as CI runs it:
// bench records built here (9 repetitions, 1.5 % run-to-run noise from a
// seeded RNG) with and without a 10 % slowdown; exit 1 only for the slowdown.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "harness/bench.h"
#include "harness/compare.h"
#include "tests/harness/run_goldpath.h"

namespace gp {
namespace {

using json = nlohmann::json;

constexpr double kNoise = 0.015;  // relative run-to-run noise of a quiet GPU

struct Spec {
  uint32_t seed = 1;
  int reps = 9;
  double decode_scale = 1.0;  // 0.9: decode 10 % slower
  double ttft_scale = 1.0;    // 1.1: time to first token 10 % longer
  std::string gpu = "NVIDIA H200";
  bool with_ttft = true;
};

json result(const std::string& metric, json pl, json depth, const std::string& unit, bool higher,
            std::vector<double> s) {
  return {{"backend", "cuda"}, {"metric", metric}, {"prompt_length", pl}, {"depth", depth}, {"unit", unit},
          {"higher_is_better", higher}, {"samples", s}};
}

json record(const Spec& sp) {
  std::mt19937 rng(sp.seed);
  std::normal_distribution<double> noise(1.0, kNoise);
  auto draw = [&](double v) {
    std::vector<double> s;
    for (int i = 0; i < sp.reps; i++) s.push_back(v * noise(rng));
    return s;
  };
  json results = json::array();
  for (int d : {0, 2048}) results.push_back(result("decode_tokens_per_s", nullptr, d, "tokens/s", true, draw((d ? 300 : 420) * sp.decode_scale)));
  if (sp.with_ttft) results.push_back(result("ttft_ms", 512, nullptr, "ms", false, draw(21.5 * sp.ttft_scale)));
  results.push_back(result("peak_memory_bytes", nullptr, nullptr, "bytes", false, std::vector<double>(sp.reps, 5e9)));
  return {{"kind", "bench"}, {"format_version", 1}, {"created_utc", "2026-11-28T20:00:00Z"},
          {"environment", {{"cpu", "test"}, {"commit", "unknown"}, {"gpu", {{"name", sp.gpu}}}}},
          {"model", {{"spec", "synthetic:phi-3-mini:q4_0"}, {"name", "phi-3-mini"}, {"weight_dtype", "q4_0"}}},
          {"config", {{"backends", {"cuda"}}, {"repetitions", sp.reps}}},
          {"results", results}};
}

class Compare : public Scratch {
 protected:
  std::string rec(const std::string& name, const Spec& s) { return write(name, record(s).dump(2)); }
};

TEST_F(Compare, TenPercentSlowerDecodeFails) {
  const std::string base = rec("base.json", {1});
  Spec slow{2};
  slow.decode_scale = 0.9;
  const Ran r = run_goldpath({"compare", base, rec("cur.json", slow)});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("WORSE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 metrics significantly worse by more than 5%"), std::string::npos) << r.out;
}

TEST_F(Compare, LongerTimeToFirstTokenFails) {
  Spec slow{2};
  slow.ttft_scale = 1.1;  // lower is better: an increase is the bad direction
  const Ran r = run_goldpath({"compare", rec("base.json", {1}), rec("cur.json", slow), "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const json j = json::parse(r.out);
  EXPECT_TRUE(j["regression"].get<bool>());
  int worse = 0;
  for (const json& m : j["metrics"])
    if (m["regression"].get<bool>()) {
      worse++;
      EXPECT_EQ(m["metric"], "ttft_ms");
      EXPECT_LT(m["p_value"].get<double>(), 0.05);
      EXPECT_NEAR(m["change_pct"].get<double>(), 10, 3);
    }
  EXPECT_EQ(worse, 1) << r.out;
}

TEST_F(Compare, FasterIsBetterNotAFailure) {
  Spec fast{2};
  fast.decode_scale = 1.1;
  const Ran r = run_goldpath({"compare", rec("base.json", {1}), rec("cur.json", fast)});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("better"), std::string::npos) << r.out;
}

TEST_F(Compare, RunToRunNoisePasses) {
  for (uint32_t seed : {2u, 3u, 4u}) {
    const Ran r = run_goldpath({"compare", rec("base.json", {1}), rec("cur.json", {seed})});
    EXPECT_EQ(r.exit_code, 0) << "seed " << seed << "\n" << r.out << r.err;
    EXPECT_EQ(r.out.find("WORSE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no significant regression"), std::string::npos) << r.out;
  }
}

TEST_F(Compare, ThresholdDecides) {
  Spec slow{2};
  slow.decode_scale = 0.9;
  const Ran r = run_goldpath({"compare", rec("base.json", {1}), rec("cur.json", slow), "--threshold", "15"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("worse, within 15% threshold"), std::string::npos) << r.out;
}

TEST_F(Compare, TooFewRepetitionsSaySo) {
  Spec b{1}, c{2};
  b.reps = c.reps = 3;  // fully separated, 3 vs 3 gives p = 0.1 at best
  c.decode_scale = 0.9;
  const Ran r = run_goldpath({"compare", rec("base.json", b), rec("cur.json", c)});
  EXPECT_EQ(r.exit_code, kCompareInconclusive) << r.out << r.err;  // never a pass
  EXPECT_NE(r.out.find("too few repetitions to tell (3 vs 3; needs 4 per side at alpha 0.05)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("INCONCLUSIVE: 3 of 4 metrics have too few repetitions"), std::string::npos) << r.out;
  // a stricter alpha needs more
  const Ran r2 = run_goldpath({"compare", rec("base.json", b), rec("cur.json", c), "--alpha", "0.01"});
  EXPECT_NE(r2.out.find("needs 5 per side at alpha 0.01"), std::string::npos) << r2.out;
}

TEST_F(Compare, DeterministicMetricJudgedByChange) {
  json b = record({1}), c = record({2});
  c["results"].back()["samples"] = std::vector<double>(9, 6e9);  // peak memory +20 %
  const Ran r = run_goldpath({"compare", write("b.json", b.dump()), write("c.json", c.dump())});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("peak_memory_bytes"), std::string::npos);
  EXPECT_NE(r.out.find("+20.0%"), std::string::npos) << r.out;
}

// With bench's default repetitions and peak memory as bench writes it (one
// sample per record), a 2x slowdown and +20 % memory fail the gate, each.
TEST_F(Compare, DefaultsCatchA2xSlowdownAndMoreMemory) {
  for (int reps : {kBenchCpuRepetitions, kBenchGpuRepetitions}) {
    SCOPED_TRACE(reps);
    Spec b{1}, slow{2};
    b.reps = slow.reps = reps;
    slow.decode_scale = 0.5;
    json base = record(b), cur = record(slow), more = record(Spec{3, reps});
    base["results"].back()["samples"] = {5e9};
    cur["results"].back()["samples"] = {5e9};
    more["results"].back()["samples"] = {6e9};  // +20 %, timings unchanged
    const Ran r = run_goldpath({"compare", write("b.json", base.dump()), write("c.json", cur.dump())});
    EXPECT_EQ(r.exit_code, kCompareRegression) << r.out << r.err;
    EXPECT_NE(r.out.find("2 metrics significantly worse"), std::string::npos) << r.out;  // decode at both depths
    const Ran m = run_goldpath({"compare", write("b.json", base.dump()), write("m.json", more.dump()), "--strict"});
    EXPECT_EQ(m.exit_code, kCompareRegression) << m.out << m.err;
    EXPECT_NE(m.out.find("+20.0%"), std::string::npos) << m.out;
    EXPECT_NE(m.out.find("1 metric significantly worse"), std::string::npos) << m.out;
  }
}

TEST_F(Compare, MissingMetricIsReported) {
  Spec c{2};
  c.with_ttft = false;
  const Ran r = run_goldpath({"compare", rec("base.json", {1}), rec("cur.json", c)});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("missing in current"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("warning: missing in current: cuda ttft_ms prompt 512"), std::string::npos) << r.err;
}

TEST_F(Compare, DifferentGpuWarnsOrRefuses) {
  Spec t4{2};
  t4.gpu = "Tesla T4";
  const std::string base = rec("base.json", {1}), cur = rec("cur.json", t4);
  const Ran r = run_goldpath({"compare", base, cur});
  EXPECT_NE(r.err.find("warning: different GPUs: baseline NVIDIA H200, current Tesla T4"), std::string::npos) << r.err;
  const Ran strict = run_goldpath({"compare", base, cur, "--strict"});
  EXPECT_EQ(strict.exit_code, 2);
  EXPECT_TRUE(fails_cleanly(strict, "different GPUs"));
}

TEST_F(Compare, BaselinesFolderPicksTheGpu) {
  rec("baselines/nvidia-h200/a.json", {1});
  rec("baselines/nvidia-h200/b.json", {5});  // pooled: 18 baseline repetitions
  rec("baselines/tesla-t4/a.json", {6});
  Spec slow{2};
  slow.decode_scale = 0.9;
  const Ran r = run_goldpath({"compare", (dir_ / "baselines").string(), rec("cur.json", slow), "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["metrics"][0]["baseline_n"], 18);
  Spec other{2};
  other.gpu = "NVIDIA A100-SXM4-80GB";
  EXPECT_TRUE(fails_cleanly(run_goldpath({"compare", (dir_ / "baselines").string(), rec("a100.json", other)}),
                            "no baselines for GPU folder 'nvidia-a100-sxm4-80gb' (has: nvidia-h200, tesla-t4)"));
}

TEST_F(Compare, BadRecordsFailCleanly) {
  const std::string good = rec("base.json", {1});
  json v2 = record({2});
  v2["format_version"] = 2;
  const Ran r = run_goldpath({"compare", good, write("v2.json", v2.dump())});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(fails_cleanly(r, "format_version 2 is not supported"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"compare", good, write("x.json", "{\"kind\": \"run\"}")}), "not a bench record"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"compare", good, write("t.json", "{\"kind\": ")}), "not valid JSON"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"compare", good, (dir_ / "nope.json").string()}), "no such file"));
}

}  // namespace
}  // namespace gp
