// bench_test.cpp: `goldpath bench` as a user runs it: a record that follows
// reports/FORMAT.md, printed as JSON identical to the file written; the
// memory budget refusing before any weight exists; one-line errors for bad
// arguments; synthetic models refused by commands that need a tokenizer;
// the ceilings a record is held to, per profile and backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/backend_registry.h"
#include "harness/bench.h"
#include "tests/harness/run_goldpath.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace gp {
namespace {

const std::string kTiny = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/tiny-llama";

std::vector<fs::path> records(const fs::path& dir) {
  std::vector<fs::path> r;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json") r.push_back(e.path());
  return r;
}

::testing::AssertionResult has_stats(const json& r, size_t n) {
  for (const char* k : {"backend", "metric", "prompt_length", "depth", "unit", "higher_is_better", "samples", "median",
                        "mean", "stddev", "min", "max"})
    if (!r.contains(k)) return ::testing::AssertionFailure() << "result lacks " << k << ": " << r.dump();
  if (r["samples"].size() != n) return ::testing::AssertionFailure() << n << " samples expected: " << r.dump();
  const double med = r["median"].get<double>();
  if (!(r["min"].get<double>() <= med && med <= r["max"].get<double>() && r["stddev"].get<double>() >= 0))
    return ::testing::AssertionFailure() << "inconsistent statistics: " << r.dump();
  return ::testing::AssertionSuccess();
}

TEST_F(Scratch, BenchWritesARecordMatchingTheSchema) {
  const Ran r = run_goldpath({"bench", "--model", kTiny, "--repetitions", "2", "--warmup", "1", "--prompt-lengths",
                              "4,16", "--depths", "0,8", "--gen-tokens", "3", "--format", "json"},
                             {{"GOLDPATH_RUNS_DIR", dir_.string()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto files = records(dir_);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(files[0].filename().string().find("-bench-"), std::string::npos);
  const json rec = json::parse(slurp(files[0].string()));
  EXPECT_EQ(json::parse(r.out), rec) << "stdout is the record";

  EXPECT_EQ(rec["kind"], "bench");
  EXPECT_EQ(rec["format_version"], 1);
  EXPECT_EQ(rec["created_utc"].get<std::string>().size(), 20u);  // 2026-11-28T20:00:00Z
  EXPECT_TRUE(rec["environment"].contains("cpu"));
  EXPECT_TRUE(rec["environment"].contains("commit"));
  EXPECT_TRUE(rec["environment"]["gpu"].is_null()) << "the reference alone needs no GPU";
  const json& m = rec["model"];
  EXPECT_EQ(m["spec"], kTiny);
  EXPECT_EQ(m["arch"], "llama");
  EXPECT_EQ(m["weight_dtype"], "f32");
  EXPECT_GT(m["params"].get<int64_t>(), 0);
  EXPECT_EQ(m["weight_bytes"].get<int64_t>(), 4 * m["params"].get<int64_t>());
  EXPECT_EQ(m["sha256"].get<std::string>().size(), 64u);
  const json& c = rec["config"];
  EXPECT_EQ(c["backends"], json::array({"reference"}));
  EXPECT_EQ(c["repetitions"], 2);
  EXPECT_EQ(c["warmup"], 1);
  EXPECT_EQ(c["prompt_lengths"], json::array({4, 16}));
  EXPECT_EQ(c["depths"], json::array({0, 8}));
  EXPECT_EQ(c["gen_tokens"], 3);
  EXPECT_TRUE(c["profile"].is_null());
  EXPECT_TRUE(c["vram_budget_bytes"].is_null());

  std::multiset<std::string> metrics;
  for (const json& x : rec["results"]) {
    const std::string k = x["metric"];
    metrics.insert(k);
    if (k == "decode_efficiency") {
      EXPECT_TRUE(x["median"].is_null());
      EXPECT_TRUE(x.contains("note"));
      continue;
    }
    EXPECT_TRUE(has_stats(x, k == "peak_memory_bytes" ? 1 : 2));
    const bool per_prompt = k == "prefill_tokens_per_s" || k == "ttft_ms";
    EXPECT_EQ(x["prompt_length"].is_null(), !per_prompt) << x.dump();
    EXPECT_EQ(x["depth"].is_null(), per_prompt || k == "peak_memory_bytes") << x.dump();
    EXPECT_GT(x["median"].get<double>(), 0) << x.dump();
  }
  for (const char* k : {"prefill_tokens_per_s", "ttft_ms", "decode_tokens_per_s", "token_latency_ms_p50",
                        "token_latency_ms_p90", "token_latency_ms_p99", "decode_efficiency"})
    EXPECT_EQ(metrics.count(k), 2u) << k;
  EXPECT_EQ(metrics.count("peak_memory_bytes"), 1u);

  EXPECT_TRUE(rec["ceilings"]["bandwidth_bytes_per_s"].is_null());
  EXPECT_TRUE(rec["ceilings"].contains("how"));
  const json& mem = rec["memory"];
  for (const char* k : {"weights", "kv_cache", "activations", "workspace", "context"})
    EXPECT_TRUE(mem["breakdown"][k].is_number_integer()) << k;
  EXPECT_EQ(mem["breakdown"]["weights"].get<int64_t>() >= m["weight_bytes"].get<int64_t>(), true);
  EXPECT_GT(mem["kv_bytes_per_token"].get<int64_t>(), 0);
  EXPECT_GE(mem["peak_bytes"].get<int64_t>(), m["weight_bytes"].get<int64_t>());
  EXPECT_TRUE(mem["max_context_in_budget"].is_null());
}

TEST_F(Scratch, ProfileT4RecordsTheProfileBudgetAndAProjection) {
  const Ran r = run_goldpath({"bench", "--model", "synthetic:tiny:q4_0", "--repetitions", "1", "--warmup", "0",
                              "--prompt-lengths", "8", "--depths", "4", "--gen-tokens", "2", "--profile", "t4"},
                             {{"GOLDPATH_RUNS_DIR", dir_.string()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("t4 projection"), std::string::npos) << r.out;
  const auto files = records(dir_);
  ASSERT_EQ(files.size(), 1u);
  const json rec = json::parse(slurp(files[0].string()));
  EXPECT_EQ(rec["config"]["profile"], "t4");
  EXPECT_EQ(rec["config"]["vram_budget_bytes"], 15360LL << 20);  // 15.0 GiB
  EXPECT_EQ(rec["model"]["name"], "tiny");
  EXPECT_EQ(rec["model"]["weight_dtype"], "q4_0");
  EXPECT_EQ(rec["memory"]["max_context_in_budget"], 256) << "the whole context fits";
  EXPECT_EQ(rec["projection"]["label"], "projection");
  EXPECT_EQ(rec["projection"]["results"].size(), 3u);  // prefill, TTFT, decode
}

// a CUDA backend's record carries the measured ceilings, a decode efficiency
// per depth, the GPU with clocks or the reason they are absent, and the
// allocator's measured memory
TEST_F(Scratch, CudaBenchRecordHasCeilingsEfficiencyAndMeasuredMemory) {
  const Ran r = run_goldpath({"bench", "--model", "synthetic:tiny:q4_0", "--backend", "cuda", "--repetitions", "2",
                              "--warmup", "1", "--prompt-lengths", "8", "--depths", "0,16", "--gen-tokens", "4",
                              "--format", "json"},
                             {{"GOLDPATH_RUNS_DIR", dir_.string()}});
  // the goldpath binary says whether it has a usable "cuda" (no build, no device)
  if (r.exit_code != 0 && r.err.find("--backend cuda is not available") != std::string::npos)
    GTEST_SKIP() << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json rec = json::parse(r.out);
  const json& c = rec["ceilings"];
  ASSERT_TRUE(c["bandwidth_bytes_per_s"].is_number()) << c.dump();
  ASSERT_TRUE(c["fp16_flops_per_s"].is_number()) << c.dump();
  const double bw = c["bandwidth_bytes_per_s"].get<double>();
  EXPECT_GT(bw, 1e10);
  EXPECT_GT(c["fp16_flops_per_s"].get<double>(), 1e12);
  EXPECT_NE(c["how"].get<std::string>().find("measured on this device"), std::string::npos);
  EXPECT_EQ(c["source"], "measured");
  const json& gpu = rec["environment"]["gpu"];
  ASSERT_TRUE(gpu.is_object());
  EXPECT_TRUE(gpu["clocks_start"].is_object() || gpu.contains("nvml_note")) << gpu.dump();
  const json& mem = rec["memory"];
  ASSERT_TRUE(mem.contains("measured")) << mem.dump();
  EXPECT_GT(mem["measured"]["peak_by_category"]["weights"].get<int64_t>(), 0);
  EXPECT_EQ(mem["measured"]["allocator_peak_bytes"], mem["peak_bytes"]);
  int effs = 0;
  for (const json& x : rec["results"]) {
    if (x["metric"] == "decode_tokens_per_s") {
      // efficiency = tokens/s / (bandwidth / (weights + KV bytes of `depth` tokens))
      const double bytes = mem["breakdown"]["weights"].get<double>() +
                           mem["kv_bytes_per_token"].get<double>() * x["depth"].get<double>();
      for (const json& e : rec["results"])
        if (e["metric"] == "decode_efficiency" && e["depth"] == x["depth"]) {
          ASSERT_EQ(e["samples"].size(), 2u) << e.dump();
          for (size_t i = 0; i < 2; i++)
            EXPECT_NEAR(e["samples"][i].get<double>(), x["samples"][i].get<double>() * bytes / bw,
                        1e-9 * e["samples"][i].get<double>());
          EXPECT_GT(e["median"].get<double>(), 0);
          effs++;
        }
    }
  }
  EXPECT_EQ(effs, 2);
}

// --profile t4 forces the driver to JIT PTX for the whole process, under which
// cuBLAS (no compute_75 PTX) cannot run the ceiling GEMM: a GPU backend is held
// to the T4's published figures, labelled so, and nothing is measured
TEST(BenchCeilings, ProfileTakesPublishedFiguresWithoutMeasuring) {
  int measured = 0;
  BackendEntry gpu;
  gpu.name = "fake-gpu";
  gpu.device_info = [] { return nlohmann::json::object(); };
  gpu.measure_ceilings = [&] {
    measured++;
    DeviceCeilings m;
    m.bandwidth_bytes_per_s = 4.0e12;
    m.fp16_flops_per_s = 7.0e14;
    m.how = "measured on this device: test";
    m.sizes = {{"copy", {{"bytes", 1}, {"repetitions", 2}}}};
    return m;
  };
  BackendEntry cpu;
  cpu.name = "reference";
  BackendEntry sim = gpu;
  sim.name = "fake-sim";
  sim.simulated = true;

  const BenchCeilings t4 = bench_ceilings("t4", {&cpu, &gpu});
  EXPECT_EQ(measured, 0);
  EXPECT_EQ(t4.source, "published");
  EXPECT_EQ(t4.bandwidth_bytes_per_s, 320e9);
  EXPECT_EQ(t4.fp16_flops_per_s, 65e12);
  EXPECT_EQ(t4.record["source"], "published");
  EXPECT_EQ(t4.record["bandwidth_bytes_per_s"].get<double>(), 320e9);
  EXPECT_EQ(t4.record["fp16_flops_per_s"].get<double>(), 65e12);
  const std::string how = t4.record["how"].get<std::string>();
  for (const char* want : {"published figures", "t4", "320", "65", "not measured"})
    EXPECT_NE(how.find(want), std::string::npos) << want << ": " << how;
  EXPECT_EQ(how.find("measured on this device"), std::string::npos) << how;

  const BenchCeilings own = bench_ceilings("", {&cpu, &gpu});
  EXPECT_EQ(measured, 1);
  EXPECT_EQ(own.source, "measured");
  EXPECT_EQ(own.bandwidth_bytes_per_s, 4.0e12);
  EXPECT_EQ(own.record["copy"]["repetitions"], 2);

  // no GPU backend: nothing to hold, with or without a profile
  for (const char* profile : {"", "t4"}) {
    const BenchCeilings none = bench_ceilings(profile, {&cpu});
    EXPECT_EQ(none.source, "none") << profile;
    EXPECT_EQ(none.bandwidth_bytes_per_s, 0) << profile;
    EXPECT_TRUE(none.record["bandwidth_bytes_per_s"].is_null()) << profile;
    const BenchCeilings simulated = bench_ceilings(profile, {&sim});
    EXPECT_EQ(simulated.source, "none") << profile;
    EXPECT_NE(simulated.record["how"].get<std::string>().find("simulated"), std::string::npos) << profile;
  }
  EXPECT_EQ(measured, 1);
}

TEST_F(Scratch, VramBudgetRefusesBeforeGeneratingWeights) {
  const auto t0 = std::chrono::steady_clock::now();
  const Ran r = run_goldpath({"bench", "--model", "synthetic:llama-2-7b", "--vram-budget", "8GiB"},
                             {{"GOLDPATH_RUNS_DIR", dir_.string()}, {"GOLDPATH_MAX_HOST_MEMORY", "1G"}});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // the host cap of 1 GiB would stop generation: the budget must speak first
  EXPECT_TRUE(fails_cleanly(r, "allows 8.0 GiB"));
  for (const char* want : {"needs 12.", "weights 12.", "KV cache", "activations"})
    EXPECT_NE(r.err.find(want), std::string::npos) << want << ": " << r.err;
  EXPECT_LT(s, 30.0);
  EXPECT_TRUE(records(dir_).empty());
  // a file model too, and generate/run share the option
  EXPECT_TRUE(fails_cleanly(run_goldpath({"bench", "--model", kTiny, "--vram-budget", "100K"}), "allows 100.0 KiB"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", kTiny, "--prompt-ids", "1,2", "--vram-budget", "100K"}),
                            "allows 100.0 KiB"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"run", "--model", kTiny, "--prompt-ids", "1,2", "--vram-budget", "100K"}),
                            "allows 100.0 KiB"));
}

TEST(BenchCli, BadArgumentsAreOneLineErrors) {
  auto bench = [](std::vector<std::string> extra) {
    std::vector<std::string> a = {"bench", "--model", kTiny};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_goldpath(a);
  };
  EXPECT_TRUE(fails_cleanly(bench({"--prompt-lengths", "0"}), "--prompt-lengths"));
  EXPECT_TRUE(fails_cleanly(bench({"--prompt-lengths", "8,x"}), "prompt-lengths"));
  EXPECT_TRUE(fails_cleanly(bench({"--prompt-lengths", "1000"}), "context of 128"));
  EXPECT_TRUE(fails_cleanly(bench({"--depths", "-1"}), "--depths"));
  EXPECT_TRUE(fails_cleanly(bench({"--depths", "126", "--gen-tokens", "8"}), "context of 128"));
  EXPECT_TRUE(fails_cleanly(bench({"--repetitions", "0"}), "repetitions"));
  EXPECT_TRUE(fails_cleanly(bench({"--gen-tokens", "0"}), "gen-tokens"));
  EXPECT_TRUE(fails_cleanly(bench({"--format", "xml"}), "format"));
  EXPECT_TRUE(fails_cleanly(bench({"--profile", "a100"}), "profile"));
  EXPECT_TRUE(fails_cleanly(bench({"--vram-budget", "8Q"}), "--vram-budget"));
  EXPECT_TRUE(fails_cleanly(bench({"--backend", "tpu"}), "tpu"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"bench", "--model", "synthetic:gpt-5"}), "phi-3-mini"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"bench", "--model", "synthetic:tiny:q6_k"}), "q6_k"));
}

TEST(BenchCli, SyntheticModelsHaveNoTokenizer) {
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "synthetic:tiny", "--prompt", "hi"}), "no tokenizer"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "--model", "synthetic:tiny", "--text", "hi"}), "no tokenizer"));
  const Ran r = run_goldpath({"generate", "--model", "synthetic:tiny", "--prompt-ids", "5,6", "--max-new-tokens", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(Scratch, TableCsvAndMarkdownFormats) {
  for (const char* f : {"table", "csv", "md"}) {
    const Ran r = run_goldpath({"bench", "--model", "synthetic:tiny", "--repetitions", "1", "--warmup", "0",
                                "--prompt-lengths", "4", "--depths", "0", "--gen-tokens", "2", "--format", f},
                               {{"GOLDPATH_RUNS_DIR", dir_.string()}});
    ASSERT_EQ(r.exit_code, 0) << f << ": " << r.err;
    const std::string head = std::string(f) == "csv" ? "created_utc,commit,model,model_spec,weight_dtype,gpu,backend,metric"
                             : std::string(f) == "md" ? "| backend | metric |"
                                                      : "backend    metric";
    EXPECT_EQ(r.out.rfind(head, 0), 0u) << f << ":\n" << r.out;
    EXPECT_NE(r.out.find("decode_tokens_per_s"), std::string::npos);
  }
}

// CSV, JSONL and SQL rows are plain numbers in their unit (bytes whole, no
// "MiB"; full precision), with model, backend and commit on every row.
TEST_F(Scratch, FlatFormatsArePlainNumbersWithModelBackendAndCommit) {
  auto bench = [&](const char* f) {
    return run_goldpath({"bench", "--model", "synthetic:tiny", "--repetitions", "2", "--warmup", "0", "--prompt-lengths",
                         "4", "--depths", "0", "--gen-tokens", "2", "--format", f},
                        {{"GOLDPATH_RUNS_DIR", dir_.string()}});
  };
  const Ran c = bench("csv");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  std::istringstream lines(c.out);
  std::string header, line;
  std::getline(lines, header);
  auto split = [](const std::string& l) {
    std::vector<std::string> v;
    std::string cur;
    for (char ch : l) {
      if (ch == ',') v.push_back(cur), cur.clear();
      else cur += ch;
    }
    v.push_back(cur);
    return v;
  };
  const std::vector<std::string> cols = split(header);
  auto col = [&](const char* name) { return (size_t)(std::find(cols.begin(), cols.end(), name) - cols.begin()); };
  ASSERT_LT(col("median"), cols.size());
  int rows = 0, memory = 0;
  while (std::getline(lines, line)) {
    const std::vector<std::string> v = split(line);
    ASSERT_EQ(v.size(), cols.size()) << line;
    rows++;
    EXPECT_EQ(v[col("model_spec")], "synthetic:tiny") << line;
    EXPECT_EQ(v[col("backend")], "reference") << line;
    EXPECT_FALSE(v[col("commit")].empty()) << line;
    const std::string& med = v[col("median")];
    if (med.empty()) continue;  // a metric that could not be measured
    char* end = nullptr;
    std::strtod(med.c_str(), &end);
    EXPECT_EQ(*end, 0) << "median '" << med << "' is not a plain number: " << line;
    if (v[col("metric")] == "peak_memory_bytes") {
      memory++;
      EXPECT_EQ(v[col("unit")], "bytes");
      EXPECT_EQ(med.find_first_not_of("0123456789"), std::string::npos) << med;
    }
  }
  EXPECT_GT(rows, 3);
  EXPECT_EQ(memory, 1);
  const Ran j = bench("jsonl");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  std::istringstream jl(j.out);
  int jrows = 0;
  while (std::getline(jl, line)) {
    const auto o = nlohmann::json::parse(line);
    EXPECT_EQ(o["model_spec"], "synthetic:tiny");
    EXPECT_TRUE(o["median"].is_number() || o["median"].is_null()) << line;
    jrows++;
  }
  EXPECT_EQ(jrows, rows);
  const Ran q = bench("sql");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out.rfind("CREATE TABLE IF NOT EXISTS goldpath_bench (", 0), 0u) << q.out;
  size_t inserts = 0;
  for (size_t p = q.out.find("INSERT INTO goldpath_bench"); p != std::string::npos; p = q.out.find("INSERT INTO", p + 1)) inserts++;
  EXPECT_EQ(inserts, (size_t)rows);
}

}  // namespace
}  // namespace gp
