// bench.h: `goldpath bench`: prefill, TTFT and decode speed, per-token
// latency and memory of every selected backend on one model, with warm-up,
// repetitions and statistics; a bench record (reports/FORMAT.md); and the
// memory budget (--vram-budget, --profile t4) that generate and run share.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/backend_registry.h"
#include "core/model.h"

namespace CLI {
class App;
}

namespace gp {

// Default timed repetitions. compare's two-sided U test needs at least 4 per
// side to reach p < 0.05 at all (core/stats.h, mann_whitney_min_repetitions);
// 5 lets it decide with one repetition to spare, on the CPU and on a GPU.
constexpr int kBenchCpuRepetitions = 5;
constexpr int kBenchGpuRepetitions = 5;

struct BenchArgs {
  std::string model = "default", backend = "default", format = "table";
  std::vector<int> prompt_lengths, depths;  // empty: defaults for the backends
  int gen_tokens = 0, repetitions = 0, warmup = -1;  // 0 / -1: defaults for the backends
  std::string vram_budget;  // "" = none
  std::string profile;      // "" or "t4"
};

// Adds the `bench` subcommand and its options to app; returns it.
CLI::App* add_bench_command(CLI::App& app, BenchArgs& a);
// Runs it: prints the results in a.format, writes a bench record; returns the exit code.
int cmd_bench(const BenchArgs& a);

// The ceilings decode efficiency is computed against, and the record's
// "ceilings" object (reports/FORMAT.md).
struct BenchCeilings {
  double bandwidth_bytes_per_s = 0, fp16_flops_per_s = 0;  // 0: none
  std::string source;  // "measured", "published" (a --profile's figures, never measured) or "none"
  nlohmann::json record;
};
// With `profile` ("t4") and a selected backend on a GPU: the profile's
// published figures, since the profile forces the driver to JIT PTX for the
// whole process and cuBLAS, which the measurement uses, ships no compute_75
// PTX. Without a profile: the first GPU backend's measure_ceilings (its
// entry in `selected`). No GPU backend (the reference, a simulated device): none.
BenchCeilings bench_ceilings(const std::string& profile, const std::vector<const BackendEntry*>& selected);

// Adds --vram-budget to a subcommand (generate, run), bound to budget.
void add_vram_budget_option(CLI::App* cmd, std::string& budget);
// With a non-empty budget ("8GiB", "16G", bytes): throws gp::Error before any
// backend allocates when a backend's memory plan for `context` tokens (and a
// prefill of `prefill` tokens) exceeds it, giving needed vs allowed and the breakdown.
void enforce_vram_budget(const std::string& budget, const Model& m, const std::vector<std::string>& backends,
                         int64_t context, int64_t prefill);

}  // namespace gp
