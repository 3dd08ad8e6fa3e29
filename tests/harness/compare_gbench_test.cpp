// compare_gbench_test.cpp: `goldpath compare` on Google Benchmark JSON from
// the bench/ binaries: a 2x slower op fails the gate, repetitions are the
// samples, time units are put on one scale; and the bench/ binaries write
// nanoseconds, Google Benchmark's counter names and the goldpath commit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "harness/compare.h"
#include "tests/harness/run_goldpath.h"

namespace gp {
namespace {

using json = nlohmann::json;

// what ops_bench --benchmark_repetitions=reps --benchmark_out_format=json writes, with seeded noise
json gbench(double ns, int reps, const std::string& unit = "ns", uint32_t seed = 1, bool aggregates_only = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(1.0, 0.01);
  const double k = unit == "us" ? 1e-3 : 1.0;
  json b = json::array();
  for (int i = 0; i < reps && !aggregates_only; i++) {
    const double t = ns * noise(rng);
    b.push_back({{"name", "rmsnorm/reference/odd/tail"}, {"run_name", "rmsnorm/reference/odd/tail"},
                 {"run_type", "iteration"}, {"repetitions", reps}, {"repetition_index", i}, {"threads", 1},
                 {"iterations", 1000}, {"real_time", t * k}, {"cpu_time", t * k}, {"time_unit", unit},
                 {"bytes_per_second", 2750.0 / (t * 1e-9)}, {"flops_per_second", 1340.0 / (t * 1e-9)}});
  }
  b.push_back({{"name", "rmsnorm/reference/odd/tail_median"}, {"run_name", "rmsnorm/reference/odd/tail"},
               {"run_type", "aggregate"}, {"aggregate_name", "median"}, {"repetitions", reps}, {"threads", 1},
               {"iterations", reps}, {"real_time", ns * k}, {"cpu_time", ns * k}, {"time_unit", unit},
               {"bytes_per_second", 2750.0 / (ns * 1e-9)}});
  b.push_back({{"name", "rmsnorm/reference/odd/tail_stddev"}, {"run_name", "rmsnorm/reference/odd/tail"},
               {"run_type", "aggregate"}, {"aggregate_name", "stddev"}, {"repetitions", reps}, {"threads", 1},
               {"iterations", reps}, {"real_time", 0.01 * ns * k}, {"cpu_time", 0.01 * ns * k}, {"time_unit", unit}});
  return {{"context", {{"date", "2026-12-05T06:00:00+00:00"}, {"executable", "./build/bench/ops_bench"},
                       {"num_cpus", 2}, {"goldpath_commit", "abc"}}},
          {"benchmarks", b}};
}

class CompareGbench : public Scratch {
 protected:
  std::string put(const std::string& name, const json& j) { return write(name, j.dump(2)); }
};

TEST_F(CompareGbench, TwiceAsSlowFailsAndTheSameTimesPass) {
  const std::string base = put("base.json", gbench(400, 5, "ns", 1));
  const Ran same = run_goldpath({"compare", base, put("same.json", gbench(400, 5, "ns", 2))});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  const Ran slow = run_goldpath({"compare", base, put("slow.json", gbench(800, 5, "ns", 3))});
  EXPECT_EQ(slow.exit_code, 1) << slow.out << slow.err;
  EXPECT_NE(slow.out.find("real_time"), std::string::npos) << slow.out;
  EXPECT_NE(slow.out.find("bytes_per_second"), std::string::npos) << slow.out;
  EXPECT_NE(slow.out.find("worse"), std::string::npos) << slow.out;
  // the same times written in microseconds compare as equal, not 1000x apart
  const Ran us = run_goldpath({"compare", base, put("us.json", gbench(400, 5, "us", 2))});
  EXPECT_EQ(us.exit_code, 0) << us.out << us.err;
}

TEST_F(CompareGbench, OneRunOrAggregatesOnlyIsInconclusive) {
  const Ran one = run_goldpath({"compare", put("a.json", gbench(400, 1)), put("b.json", gbench(800, 1))});
  EXPECT_EQ(one.exit_code, kCompareInconclusive) << one.out << one.err;
  // --benchmark_report_aggregates_only: the median stands for the run
  const json agg = gbench(400, 5, "ns", 1, true);
  const auto rec = bench_record_from_google_benchmark(agg, "agg.json");
  ASSERT_EQ(rec["results"].size(), 3u) << rec.dump(2);  // real_time, cpu_time, bytes_per_second of the median
  for (const auto& r : rec["results"]) EXPECT_EQ(r["samples"].size(), 1u);
  const Ran bad = run_goldpath({"compare", put("x.json", json{{"context", json::object()},
                                                              {"benchmarks", {{{"name", 3}}}}}),
                                put("y.json", gbench(400, 5))});
  EXPECT_TRUE(fails_cleanly(bad, "benchmarks[0] has no string \"name\""));
}

TEST_F(CompareGbench, OpsBenchWritesNanosecondsCounterNamesAndTheCommit) {
  const std::string out = (dir_ / "ops.json").string();
  const Ran r = run_program(GOLDPATH_OPS_BENCH_EXE, {"--benchmark_filter=rmsnorm/reference/odd", "--benchmark_min_time=0.001",
                                                     "--benchmark_out=" + out, "--benchmark_out_format=json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(slurp(out));
  EXPECT_NE(j["context"].value("goldpath_commit", std::string()), "") << j["context"].dump();
  ASSERT_GE(j["benchmarks"].size(), 1u);
  for (const auto& b : j["benchmarks"]) {
    EXPECT_EQ(b["time_unit"], "ns") << b.dump();
    EXPECT_TRUE(b.contains("bytes_per_second")) << b.dump();
    EXPECT_TRUE(b.contains("flops_per_second")) << b.dump();
    EXPECT_FALSE(b.contains("bytes") || b.contains("flops")) << b.dump();
  }
  // and compare reads it
  const Ran c = run_goldpath({"compare", out, out});
  EXPECT_NE(c.exit_code, kCompareRegression) << c.out << c.err;
  EXPECT_NE(c.exit_code, kCompareCannotCompare) << c.out << c.err;
}

}  // namespace
}  // namespace gp
