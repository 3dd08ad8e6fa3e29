// compare.h: reading bench records (reports/FORMAT.md) and `goldpath compare`,
// the regression gate: per metric, baseline vs current medians and a two-sided
// Mann-Whitney U test over the repetitions (core/stats.h), as Google
// Benchmark's tools/compare.py does; the gate fails only on a significant
// change in the bad direction that is larger than the threshold.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gp {

struct BenchRecord {
  std::string path;
  nlohmann::json j;
};

// Checks the fields compare and report rely on; throws gp::Error naming the
// file and the field.
void check_bench_record(const nlohmann::json& j, const std::string& path);
// Bench records from files and folders. A file must be a bench record; a
// folder gives its *.json files of kind "bench" (others skipped), sorted by
// name. Throws when a path gives no record.
// Google Benchmark JSON (a bench/ binary's --benchmark_out) is read too, as a
// bench record of model "google-benchmark <executable>": per benchmark run
// name, real_time and cpu_time in ns (lower is better) and every counter
// (names ending _per_second, /s or _of_ceiling: higher is better; others
// lower, in bytes when the name ends in bytes); each repetition one sample;
// aggregates only where a run has no repetitions of its own (the median).
std::vector<BenchRecord> load_bench_records(const std::vector<std::string>& paths);
bool is_google_benchmark_json(const nlohmann::json& j);
nlohmann::json bench_record_from_google_benchmark(const nlohmann::json& gb, const std::string& path);
// "NVIDIA H200" -> "nvidia-h200"; a record without a GPU -> "cpu". The
// folder name of a GPU's baselines under reports/baselines/.
std::string gpu_folder_name(const nlohmann::json& record);

struct CompareOptions {
  double threshold_pct = 5;     // a worse change must exceed this to fail the gate
  double alpha = 0.05;          // U-test significance level
  std::string format = "table"; // table | json | md
  bool strict = false;          // refuse different models or GPUs instead of warning
};

// One metric, matched by (backend, metric, prompt_length, depth).
struct MetricComparison {
  std::string backend, metric, unit;
  nlohmann::json prompt_length, depth;  // number or null
  bool higher_is_better = true;
  std::vector<double> base, cur;        // samples (empty: missing on that side)
  double base_median = 0, cur_median = 0, change_pct = 0;
  double p_value = -1;                  // < 0: no test (missing, deterministic)
  std::string verdict;                  // better, worse, no significant change, ...
  bool regression = false;              // fails the gate
  bool undecided = false;               // too few repetitions for the test to decide
};

struct Comparison {
  std::vector<MetricComparison> rows;
  std::vector<std::string> warnings;  // mismatched models/GPUs, missing metrics
  bool regression = false;
  int undecided = 0;  // metrics the test could not decide (too few repetitions)
};

// cmd_compare's exit codes (README, reports/FORMAT.md)
constexpr int kCompareNoRegression = 0;
constexpr int kCompareRegression = 1;
constexpr int kCompareCannotCompare = 2;
constexpr int kCompareInconclusive = 3;  // no regression found, but some metric could not be decided

// BASELINE and CURRENT: one or more records each (pooled per side).
Comparison compare_records(const std::vector<BenchRecord>& baseline, const std::vector<BenchRecord>& current,
                           const CompareOptions& o);
std::string render_comparison(const Comparison& c, const CompareOptions& o);

struct CompareArgs {
  std::string baseline, current;
  CompareOptions o;
};
// Adds the `compare` subcommand and its options to app; returns it.
CLI::App* add_compare_command(CLI::App& app, CompareArgs& a);
// `goldpath compare BASELINE CURRENT`: a folder of GPU folders as BASELINE
// (reports/baselines) takes the one named after CURRENT's GPU. Prints the
// comparison; returns 0 (no regression), 1 (regression), 2 (cannot compare,
// one line on stderr) or 3 (INCONCLUSIVE: no regression found, but metrics
// with too few repetitions to decide).
int cmd_compare(const CompareArgs& a);

}  // namespace gp
