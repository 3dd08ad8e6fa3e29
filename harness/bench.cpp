// bench.cpp: `goldpath bench` (bench.h). Method, as llama-bench: prefill of
// P random token ids into an empty cache (pp<P>), time to first token (that
// prefill + one greedy sample), and decode of N tokens one at a time after
// an untimed prefill of `depth` tokens (tg<N>@d<depth>); warm-up runs first,
// then repetitions, summarised by median, mean, stddev, min and max. The
// memory plan (core/memory_plan.h) is checked against the budget before any
// weight is generated or any backend allocates. The device a backend runs on
// (clocks, ceilings, code path) is described through its registry entry's
// hooks (core/backend_registry.h); a simulated device's times are not speed.
#include "harness/bench.h"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/backend_registry.h"
#include "harness/cli_checks.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/memory_plan.h"
#include "core/sampler.h"
#include "core/sha256.h"
#include "core/synthetic.h"
#include "harness/backends.h"
#include "harness/records.h"
#include "harness/table.h"
#include "harness/verify.h"

namespace gp {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- settings
struct Settings {
  std::vector<int> prompt_lengths, depths;
  int gen_tokens = 0, repetitions = 0, warmup = 0;
  std::string why;  // how the defaults were chosen
};

// a backend on a real device, which its entry's hooks describe
bool on_gpu(const BackendEntry* e) { return e && e->device_info && !e->simulated; }

bool cpu_only(const std::vector<std::string>& backends) {
  return std::none_of(backends.begin(), backends.end(), [](const std::string& b) { return on_gpu(find_backend(b)); });
}

// Defaults aim at GPUs (pp512 and a sweep, tg128 at depths 0, 512, 2048);
// without a GPU backend (the reference, a simulated device) they shrink to
// what a CPU finishes in about a minute with the reference.
Settings choose_settings(const BenchArgs& a, const std::vector<std::string>& backends, const ModelConfig& c) {
  Settings s;
  const bool cpu = cpu_only(backends);
  s.prompt_lengths = a.prompt_lengths.empty() ? (cpu ? std::vector<int>{16, 64} : std::vector<int>{64, 128, 256, 512, 1024, 2048})
                                              : a.prompt_lengths;
  s.depths = a.depths.empty() ? (cpu ? std::vector<int>{0, 64} : std::vector<int>{0, 512, 2048}) : a.depths;
  s.gen_tokens = a.gen_tokens > 0 ? a.gen_tokens : cpu ? 8 : 128;
  s.repetitions = a.repetitions > 0 ? a.repetitions : cpu ? kBenchCpuRepetitions : kBenchGpuRepetitions;
  s.warmup = a.warmup >= 0 ? a.warmup : 1;
  for (int p : s.prompt_lengths) GP_CHECK(p > 0, "--prompt-lengths: ", p, " is not a positive length");
  for (int d : s.depths) GP_CHECK(d >= 0, "--depths: ", d, " is negative");
  // defaults beyond the model's context are dropped; given values must fit
  const int ctx = c.max_seq_len;
  if (a.prompt_lengths.empty())
    s.prompt_lengths.erase(std::remove_if(s.prompt_lengths.begin(), s.prompt_lengths.end(), [&](int p) { return p > ctx; }),
                           s.prompt_lengths.end());
  if (a.depths.empty())
    s.depths.erase(std::remove_if(s.depths.begin(), s.depths.end(), [&](int d) { return d + s.gen_tokens > ctx; }),
                   s.depths.end());
  for (int p : s.prompt_lengths)
    GP_CHECK(p <= ctx, "--prompt-lengths: ", p, " exceeds the model's context of ", ctx, " tokens");
  for (int d : s.depths)
    GP_CHECK((int64_t)d + s.gen_tokens <= ctx, "--depths ", d, " + --gen-tokens ", s.gen_tokens,
             " exceeds the model's context of ", ctx, " tokens");
  GP_CHECK(!s.prompt_lengths.empty() || !s.depths.empty(), "nothing to measure within the model's context of ", ctx,
           " tokens: give --prompt-lengths or --depths");
  auto list = [](const std::vector<int>& v) {
    std::string o;
    for (int x : v) o += (o.empty() ? "" : ",") + std::to_string(x);
    return o.empty() ? std::string("none") : o;
  };
  s.why = str(cpu && (a.prompt_lengths.empty() || a.depths.empty() || a.gen_tokens <= 0 || a.repetitions <= 0)
                  ? "CPU-friendly defaults (no selected backend runs on a GPU): "
                  : "",
              "prompt lengths ", list(s.prompt_lengths), ", depths ", list(s.depths), ", ", s.gen_tokens,
              " generated tokens, ", s.repetitions, " repetitions after ", s.warmup, " warm-up");
  return s;
}

// ---------------------------------------------------------------- statistics
struct Stats {
  double median = 0, mean = 0, stddev = 0, min = 0, max = 0;
};

double percentile(std::vector<double> v, double q) {  // linear interpolation between order statistics
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = (size_t)pos;
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

Stats stats(const std::vector<double>& v) {
  Stats s;
  if (v.empty()) return s;
  s.median = percentile(v, 0.5);
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(ss / (v.size() - 1)) : 0.0;  // sample standard deviation
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

json result(const std::string& backend, const std::string& metric, const json& pl, const json& depth,
            const std::string& unit, bool higher, const std::vector<double>& samples) {
  const Stats s = stats(samples);
  if (unit == "bytes") {  // whole numbers
    std::vector<int64_t> b(samples.begin(), samples.end());
    return {{"backend", backend}, {"metric", metric}, {"prompt_length", pl}, {"depth", depth}, {"unit", unit},
            {"higher_is_better", higher}, {"samples", b}, {"median", (int64_t)s.median}, {"mean", s.mean},
            {"stddev", s.stddev}, {"min", (int64_t)s.min}, {"max", (int64_t)s.max}};
  }
  return {{"backend", backend}, {"metric", metric}, {"prompt_length", pl}, {"depth", depth}, {"unit", unit},
          {"higher_is_better", higher}, {"samples", samples}, {"median", s.median}, {"mean", s.mean},
          {"stddev", s.stddev}, {"min", s.min}, {"max", s.max}};
}

json null_result(const std::string& backend, const std::string& metric, const json& pl, const json& depth,
                 const std::string& unit, bool higher, const std::string& note) {
  return {{"backend", backend}, {"metric", metric}, {"prompt_length", pl}, {"depth", depth}, {"unit", unit},
          {"higher_is_better", higher}, {"samples", json::array()}, {"median", nullptr}, {"mean", nullptr},
          {"stddev", nullptr}, {"min", nullptr}, {"max", nullptr}, {"note", note}};
}

// ---------------------------------------------------------------- progress
// On a terminal: one line rewritten in place; otherwise one line per finished item.
class Progress {
 public:
  explicit Progress(int total) : total_(total), tty_(::isatty(2)) {}
  void step(const std::string& what) {
    if (tty_) std::fprintf(stderr, "\r\033[K[%d/%d] %s", done_ + 1, total_, what.c_str()), std::fflush(stderr);
  }
  void done(const std::string& line) {
    done_++;
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "bench: [%d/%d] %s\n", done_, total_, line.c_str());
  }

 private:
  int total_, done_ = 0;
  bool tty_;
};

// ---------------------------------------------------------------- measuring
double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// deterministic token ids away from id 0..2 (often special)
std::vector<int32_t> bench_tokens(int n, int vocab, uint64_t seed) {
  std::vector<int32_t> t(n);
  uint64_t s = seed;
  for (int i = 0; i < n; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    t[i] = (int32_t)(3 + (s >> 33) % (uint64_t)std::max(1, vocab - 3));
  }
  return t;
}

struct PrefillRun {
  double prefill_s, ttft_s;
};

// the generation path (core/generate.cpp): forward keeping the logits in the
// backend, then the greedy token chosen there (on the device for CUDA backends)
PrefillRun run_prefill(Backend& be, const ModelConfig& c, int P) {
  const auto tokens = bench_tokens(P, c.vocab_size, 1000 + P);
  Sampler sampler(SamplerConfig{}, c.vocab_size);
  be.reset();
  const auto t0 = Clock::now();
  be.forward_for_sampling(tokens.data(), P, 0);
  const auto t1 = Clock::now();
  volatile int32_t id = be.sample_next(sampler, {}, nullptr);
  (void)id;
  const auto t2 = Clock::now();
  return {seconds(t0, t1), seconds(t0, t2)};
}

// per-step latencies (forward + greedy sample) of n decode steps after an untimed prefill of depth tokens
std::vector<double> run_decode(Backend& be, const ModelConfig& c, int depth, int n) {
  Sampler sampler(SamplerConfig{}, c.vocab_size);
  be.reset();
  int32_t next = bench_tokens(1, c.vocab_size, 7)[0];
  if (depth > 0) {
    const auto ctx = bench_tokens(depth, c.vocab_size, 2000 + depth);
    be.forward_for_sampling(ctx.data(), depth, 0);
    next = be.sample_next(sampler, {}, nullptr);
  }
  std::vector<double> lat;
  lat.reserve(n);
  for (int i = 0; i < n; i++) {
    const auto t0 = Clock::now();
    be.forward_for_sampling(&next, 1, depth + i);
    next = be.sample_next(sampler, {}, nullptr);
    lat.push_back(seconds(t0, Clock::now()));
  }
  return lat;
}

// ---------------------------------------------------------------- model facts
std::string dominant_dtype(const std::vector<WeightEntry>& w) {
  std::map<std::string, int64_t> bytes;
  for (const auto& e : w) bytes[dtype_name(e.dtype)] += e.nbytes();
  return std::max_element(bytes.begin(), bytes.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
}

json model_json(const std::string& spec, const std::string& path, const ModelConfig& c,
                const std::vector<WeightEntry>& w) {
  int64_t params = 0, bytes = 0;
  for (const auto& e : w) params += e.numel(), bytes += e.nbytes();
  json m = {{"spec", spec}, {"arch", arch_name(c.arch)}, {"weight_dtype", dominant_dtype(w)},
            {"params", params}, {"weight_bytes", bytes}};
  if (is_synthetic_spec(path)) {
    const SyntheticSpec s = parse_synthetic_spec(path);
    m["name"] = s.preset;
    m["sha256"] = nullptr;
    m["synthetic"] = {{"preset", s.preset}, {"seed", s.seed}, {"shapes_of", synthetic_preset(s.preset).source}};
  } else {
    m["name"] = path.substr(path.find_last_of('/') + 1);
    struct stat st;
    const bool dir = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    const std::string file = dir ? path + "/model.safetensors" : path;
    m["sha256"] = ::access(file.c_str(), R_OK) == 0 ? json(sha256_file(file)) : json(nullptr);
  }
  return m;
}

std::string num(double v);  // "%.2f" or "%.3g" (output section)

// the first selected backend on a real device: its hooks describe the device in the record
const BackendEntry* device_entry(const std::vector<std::string>& backends) {
  for (const auto& b : backends)
    if (on_gpu(find_backend(b))) return find_backend(b);
  return nullptr;
}

json clocks_json(const DeviceClocks& s) {
  if (!s.sm_mhz && !s.memory_mhz) return nullptr;
  return {{"sm_mhz", s.sm_mhz ? json(*s.sm_mhz) : json(nullptr)},
          {"memory_mhz", s.memory_mhz ? json(*s.memory_mhz) : json(nullptr)}};
}

DeviceClocks sample_clocks(const BackendEntry& dev) {
  if (dev.sample_clocks) return dev.sample_clocks();
  DeviceClocks none;
  none.note = str("backend ", dev.name, " reads no clocks");
  return none;
}

// environment.gpu at the start of the run; null when no backend on a GPU runs
json gpu_json(const BackendEntry* dev) {
  if (!dev || !dev->unavailable().empty()) return nullptr;
  json j = dev->device_info();
  const DeviceClocks s = sample_clocks(*dev);
  j["clocks_start"] = clocks_json(s);
  j["clocks_end"] = nullptr;
  j["temperature_start"] = s.temperature_c ? json(*s.temperature_c) : json(nullptr);
  j["temperature_end"] = nullptr;
  if (!s.note.empty()) j["nvml_note"] = s.note;
  return j;
}

// fills clocks_end and temperature_end of a gpu_json() object
void gpu_json_end(json& gpu, const BackendEntry* dev) {
  if (gpu.is_null() || !dev) return;
  const DeviceClocks s = sample_clocks(*dev);
  gpu["clocks_end"] = clocks_json(s);
  gpu["temperature_end"] = s.temperature_c ? json(*s.temperature_c) : json(nullptr);
  if (!s.note.empty()) gpu["nvml_note"] = s.note;
}

// --profile t4 on a newer GPU: the sm_75 code path through the driver's JIT of
// the build's compute_75 PTX. Must run before the first CUDA runtime call
// (the driver reads it when it creates the context), so it holds for the whole
// process: bench_ceilings takes the profile's published figures instead of
// measuring with cuBLAS, which ships no compute_75 PTX.
void force_ptx_jit(const std::string& profile) {
  if (profile != "t4") return;
  ::setenv("CUDA_FORCE_PTX_JIT", "1", 1);
}

void check_t4_code_path(const std::string& profile, const BackendEntry* dev) {
  if (profile != "t4" || !dev || !dev->kernel_ptx_version) return;
  const int ptx = dev->kernel_ptx_version();
  GP_CHECK(ptx == 75, "--profile t4: goldpath's kernels were loaded from compute_", ptx,
           " PTX, not compute_75: the build lacks compute_75 PTX as its only PTX for this device "
           "(configure with -DGOLDPATH_CUDA_ARCHS=75 or 75-virtual)");
  std::fprintf(stderr, "bench: --profile t4: CUDA_FORCE_PTX_JIT=1, kernels JIT-compiled from compute_75 PTX\n");
}

json plan_json(const MemoryPlan& p, int64_t peak, const json& max_ctx) {
  return {{"backend", p.backend}, {"peak_bytes", peak},
          {"breakdown", {{"weights", p.weights}, {"kv_cache", p.kv_cache}, {"activations", p.activations},
                         {"workspace", p.workspace}, {"context", p.context}}},
          {"planned_bytes", p.total()}, {"context_tokens", p.context_tokens}, {"prefill_tokens", p.prefill_tokens},
          {"kv_bytes_per_token", p.kv_bytes_per_token}, {"max_context_in_budget", max_ctx}};
}

// A device backend's allocator report (peak per category, the context and
// other memory found in use at its creation), cross-checked with what the
// device says is in use now; null for a backend that counts nothing.
json measured_memory_json(const Backend& be) {
  const MemoryUse u = be.memory_use();
  if (u.empty()) return nullptr;
  json peaks = json::object();
  for (const auto& [category, bytes] : u.peak_by_category) peaks[category] = bytes;
  const int64_t in_use = u.device_in_use_bytes, accounted = u.current_bytes + u.context_bytes;
  return {{"allocator_peak_bytes", u.peak_bytes}, {"peak_by_category", peaks},
          {"context_and_other_bytes", u.context_bytes},
          {"device_peak_bytes", u.peak_bytes + u.context_bytes},
          {"allocator_current_bytes", u.current_bytes},
          {"device_in_use_bytes", in_use >= 0 ? json(in_use) : json(nullptr)},
          {"unaccounted_bytes", in_use >= 0 ? json(in_use - accounted) : json(nullptr)},
          {"how", "peak: the backend's allocator (sum of live allocations at its highest) + device memory in use "
                  "when it was created (CUDA context, libraries, other processes); cross-check: the device's memory "
                  "in use at the end (cudaMemGetInfo) vs the allocator's live bytes + that context; unaccounted_bytes "
                  "is the difference (memory allocated behind goldpath's allocator, e.g. by cuBLAS or graphs)"}};
}

// ---------------------------------------------------------------- output
std::string num(double v) {
  char b[64];
  if (v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-2)) std::snprintf(b, sizeof b, "%.3g", v);
  else std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string metric_label(const json& r) {
  std::string m = r["metric"].get<std::string>();
  if (!r["prompt_length"].is_null()) m += " pp" + std::to_string(r["prompt_length"].get<int>());
  if (!r["depth"].is_null()) m += " @d" + std::to_string(r["depth"].get<int>());
  return m;
}

// One flat row per result, for tools (pandas, sqlite, jq): plain numbers in
// the row's unit (bytes as integers, times as recorded), with the record's
// model, GPU, commit and time on every row; absent values are empty (CSV) or
// null. csv: RFC 4180 with a header; jsonl: one object per line; sql: a
// CREATE TABLE IF NOT EXISTS then INSERTs, as llama-bench's -o sql.
const std::vector<std::string> kFlatColumns = {
    "created_utc", "commit",  "model",   "model_spec", "weight_dtype", "gpu",    "backend", "metric", "prompt_length",
    "depth",       "unit",    "n",       "median",     "mean",         "stddev", "min",     "max",    "simulated"};

std::vector<json> flat_rows(const json& rec) {
  const json& env = rec.value("environment", json::object());
  const json& model = rec.value("model", json::object());
  const json gpu = env.value("gpu", json());
  std::vector<json> out;
  for (const json& r : rec["results"]) {
    json f;
    f["created_utc"] = rec.value("created_utc", json());
    f["commit"] = env.value("commit", json());
    f["model"] = model.value("name", json());
    f["model_spec"] = model.value("spec", model.value("path", json()));
    f["weight_dtype"] = model.value("weight_dtype", json());
    f["gpu"] = gpu.is_object() ? gpu.value("name", json()) : json();
    for (const char* k : {"backend", "metric", "prompt_length", "depth", "unit"}) f[k] = r.value(k, json());
    f["n"] = r["samples"].size();
    for (const char* k : {"median", "mean", "stddev", "min", "max"}) f[k] = r.value(k, json());
    f["simulated"] = r.value("simulated", false);
    out.push_back(f);
  }
  return out;
}

std::string flat_cell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v.get<double>());
  return buf;
}

void print_flat(const json& rec, const std::string& format) {
  const std::vector<json> rows = flat_rows(rec);
  if (format == "jsonl") {
    for (const json& f : rows) {
      json o = json::object();
      for (const std::string& c : kFlatColumns) o[c] = f[c];
      std::cout << o.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
    return;
  }
  if (format == "csv") {
    auto cell = [](const std::string& x) {
      if (x.find_first_of(",\"\n\r") == std::string::npos) return x;
      std::string q = "\"";
      for (char c : x) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    };
    for (size_t i = 0; i < kFlatColumns.size(); i++) std::cout << (i ? "," : "") << kFlatColumns[i];
    std::cout << "\n";
    for (const json& f : rows) {
      for (size_t i = 0; i < kFlatColumns.size(); i++) std::cout << (i ? "," : "") << cell(flat_cell(f[kFlatColumns[i]]));
      std::cout << "\n";
    }
    return;
  }
  // sql
  auto type_of = [](const std::string& c) {
    if (c == "prompt_length" || c == "depth" || c == "n" || c == "simulated") return "INTEGER";
    if (c == "median" || c == "mean" || c == "stddev" || c == "min" || c == "max") return "REAL";
    return "TEXT";
  };
  std::cout << "CREATE TABLE IF NOT EXISTS goldpath_bench (\n";
  for (size_t i = 0; i < kFlatColumns.size(); i++)
    std::cout << "  " << kFlatColumns[i] << " " << type_of(kFlatColumns[i]) << (i + 1 < kFlatColumns.size() ? ",\n" : "\n");
  std::cout << ");\n";
  for (const json& f : rows) {
    std::cout << "INSERT INTO goldpath_bench (";
    for (size_t i = 0; i < kFlatColumns.size(); i++) std::cout << (i ? ", " : "") << kFlatColumns[i];
    std::cout << ") VALUES (";
    for (size_t i = 0; i < kFlatColumns.size(); i++) {
      const json& v = f[kFlatColumns[i]];
      std::string x;
      if (v.is_null()) x = "NULL";
      else if (v.is_boolean()) x = v.get<bool>() ? "1" : "0";
      else if (v.is_string()) {
        x = "'";
        for (char c : v.get<std::string>()) x += c == '\'' ? std::string("''") : std::string(1, c);
        x += "'";
      } else x = flat_cell(v);
      std::cout << (i ? ", " : "") << x;
    }
    std::cout << ");\n";
  }
}

void print_record(const json& rec, const std::string& format) {
  if (format == "json") {
    std::cout << rec.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return;
  }
  // projections keyed by metric + lengths
  std::map<std::string, double> proj;
  if (rec.contains("projection"))
    for (const auto& p : rec["projection"]["results"]) proj[metric_label(p)] = p["value"].get<double>();
  const bool has_proj = !proj.empty();
  std::vector<std::string> head = {"backend", "metric", "prompt", "depth", "median", "stddev", "unit", "n"};
  if (has_proj) head.push_back(rec["config"]["profile"].get<std::string>() + " projection");
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : rec["results"]) {
    std::vector<std::string> row = {
        r["backend"].get<std::string>(), r["metric"].get<std::string>(),
        r["prompt_length"].is_null() ? "-" : std::to_string(r["prompt_length"].get<int>()),
        r["depth"].is_null() ? "-" : std::to_string(r["depth"].get<int>()),
        r["median"].is_null() ? "-" : r["unit"] == "bytes" ? human_bytes(r["median"].get<int64_t>()) : num(r["median"].get<double>()),
        r["stddev"].is_null() ? "-" : num(r["stddev"].get<double>()),
        // a simulated device's times are the simulator's, never a GPU's speed
        r["unit"].get<std::string>() + (r.value("simulated", false) && r["unit"] != "bytes" ? " (simulated)" : ""),
        std::to_string(r["samples"].size())};
    if (has_proj) {
      auto it = proj.find(metric_label(r));
      row.push_back(it == proj.end() ? "" : num(it->second));
    }
    rows.push_back(row);
  }
  if (format == "csv" || format == "jsonl" || format == "sql") {
    print_flat(rec, format);
    return;
  }
  if (format == "md") {
    auto line = [](const std::vector<std::string>& r) {
      std::string s = "|";
      for (const auto& c : r) s += " " + c + " |";
      return s + "\n";
    };
    std::cout << line(head);
    std::string rule = "|";
    for (size_t i = 0; i < head.size(); i++) rule += i >= 4 && i != 6 ? " ---: |" : " --- |";
    std::cout << rule << "\n";
    for (const auto& r : rows) std::cout << line(r);
  } else {
    Table t(head);
    for (const auto& r : rows) t.add(r);
    std::cout << t.render();
  }
  const json& mem = rec["memory"];
  std::cout << "\nmemory (" << mem["backend"].get<std::string>() << "): peak " << human_bytes(mem["peak_bytes"].get<int64_t>())
            << "; planned " << human_bytes(mem["planned_bytes"].get<int64_t>()) << " = weights "
            << human_bytes(mem["breakdown"]["weights"].get<int64_t>()) << " + KV cache "
            << human_bytes(mem["breakdown"]["kv_cache"].get<int64_t>()) << " + activations "
            << human_bytes(mem["breakdown"]["activations"].get<int64_t>()) << " + workspace "
            << human_bytes(mem["breakdown"]["workspace"].get<int64_t>()) << " + context "
            << human_bytes(mem["breakdown"]["context"].get<int64_t>()) << "; KV "
            << mem["kv_bytes_per_token"].get<int64_t>() << " bytes/token";
  if (!mem["max_context_in_budget"].is_null())
    std::cout << "; longest context in budget " << mem["max_context_in_budget"].get<int64_t>() << " tokens";
  std::cout << "\n";
  if (mem.contains("measured"))
    std::cout << "measured on the device: peak " << human_bytes(mem["measured"]["device_peak_bytes"].get<int64_t>())
              << " = allocator " << human_bytes(mem["measured"]["allocator_peak_bytes"].get<int64_t>())
              << " + CUDA context and other " << human_bytes(mem["measured"]["context_and_other_bytes"].get<int64_t>())
              << (mem["measured"]["device_in_use_bytes"].is_null()
                      ? std::string()
                      : "; cudaMemGetInfo in use at the end " +
                            human_bytes(mem["measured"]["device_in_use_bytes"].get<int64_t>()))
              << "\n";
  if (rec.contains("projection"))
    std::cout << "projection: " << rec["projection"]["how"].get<std::string>() << "\n";
  std::cout << "ceilings: " << rec["ceilings"]["how"].get<std::string>() << "\n";
  if (rec.contains("descriptions"))
    for (const auto& d : rec["descriptions"]) std::cout << "backend " << d.get<std::string>() << "\n";
}

int64_t budget_bytes(const std::string& budget, const std::string& profile) {
  if (!budget.empty()) return parse_byte_size(budget, "--vram-budget");
  if (!profile.empty()) return device_profile(profile).memory_bytes;
  return 0;
}

}  // namespace

// ---------------------------------------------------------------- ceilings
BenchCeilings bench_ceilings(const std::string& profile, const std::vector<const BackendEntry*>& selected) {
  const BackendEntry *gpu = nullptr, *sim = nullptr;
  for (const BackendEntry* e : selected) {
    if (!gpu && on_gpu(e)) gpu = e;
    if (!sim && e && e->simulated) sim = e;
  }
  BenchCeilings c;
  auto none = [&](const std::string& how) {
    c.source = "none";
    c.record = {{"bandwidth_bytes_per_s", nullptr}, {"fp16_flops_per_s", nullptr}, {"source", c.source}, {"how", how}};
    return c;
  };
  if (!gpu)
    return none(sim ? str("not measured: ", sim->name, " runs on a simulated device, whose times are not speed")
                    : std::string("not measured: no selected backend runs on a GPU (the reference runs on the CPU)"));
  if (!profile.empty()) {
    const DeviceProfile& p = device_profile(profile);
    c.bandwidth_bytes_per_s = p.bandwidth_bytes_per_s;
    c.fp16_flops_per_s = p.fp16_flops_per_s;
    c.source = "published";
    c.record = {{"bandwidth_bytes_per_s", c.bandwidth_bytes_per_s}, {"fp16_flops_per_s", c.fp16_flops_per_s},
                {"source", c.source},
                {"how", str("published figures of the ", p.name, " (--profile ", profile, "): ",
                            num(c.bandwidth_bytes_per_s / 1e9), " GB/s memory bandwidth, ",
                            num(c.fp16_flops_per_s / 1e12), " TFLOP/s fp16 tensor; not measured: the profile makes "
                            "the driver JIT-compile PTX for the whole process, and cuBLAS, which the ceiling GEMM "
                            "uses, ships no compute_75 PTX")}};
    std::fprintf(stderr, "bench: ceilings: %s\n", c.record["how"].get<std::string>().c_str());
    return c;
  }
  if (!gpu->measure_ceilings) return none(str("not measured: backend ", gpu->name, " measures no ceilings"));
  std::fprintf(stderr, "bench: measuring the device's bandwidth and f16 GEMM ceilings ...\n");
  const DeviceCeilings m = gpu->measure_ceilings();
  c.bandwidth_bytes_per_s = m.bandwidth_bytes_per_s;
  c.fp16_flops_per_s = m.fp16_flops_per_s;
  c.source = "measured";
  c.record = {{"bandwidth_bytes_per_s", c.bandwidth_bytes_per_s}, {"fp16_flops_per_s", c.fp16_flops_per_s},
              {"source", c.source}, {"how", m.how}};
  if (m.sizes.is_object()) c.record.update(m.sizes);  // "copy", "gemm"
  std::fprintf(stderr, "bench: ceilings: %s GB/s, %s TFLOP/s f16\n", num(c.bandwidth_bytes_per_s / 1e9).c_str(),
               num(c.fp16_flops_per_s / 1e12).c_str());
  return c;
}

// ---------------------------------------------------------------- budget for generate/run
void add_vram_budget_option(CLI::App* cmd, std::string& budget) {
  cmd->add_option("--vram-budget", budget,
                  "refuse, before allocating, a model and context whose memory plan exceeds this (e.g. 8GiB, 16G)");
}

void enforce_vram_budget(const std::string& budget, const Model& m, const std::vector<std::string>& backends,
                         int64_t context, int64_t prefill) {
  if (budget.empty()) return;
  const int64_t b = parse_byte_size(budget, "--vram-budget");
  const auto w = model_weights(m);
  for (const auto& name : backends)
    check_memory_budget(plan_memory(name, m.cfg, w, context, prefill), b,
                        str(m.path, " with a context of ", context, " tokens"));
}

// ---------------------------------------------------------------- bench
CLI::App* add_bench_command(CLI::App& app, BenchArgs& a) {
  auto* b = app.add_subcommand("bench", "prefill, TTFT and decode speed, token latency and memory of every backend");
  b->add_option("--model,-m", a.model, "a GGUF file, a Hugging Face folder, 'default', or synthetic:<preset>[:<dtype>]")
      ->capture_default_str();
  b->add_option("--backend", a.backend, "backend name, 'default' (reference and the GPU backends) or 'all' (also cuda-sim, the simulated device)")->capture_default_str();
  b->add_option("--prompt-lengths,--n-prompt,-p", a.prompt_lengths, "prefill lengths, comma-separated (default: 64..2048; 16,64 with the reference alone)")
      ->delimiter(',');
  b->add_option("--depths,--n-depth,-d", a.depths, "KV cache depths decode starts at (default: 0,512,2048; 0,64 with the reference alone)")
      ->delimiter(',');
  b->add_option("--gen-tokens,--n-gen,-n", a.gen_tokens, "tokens decoded per depth (default: 128; 8 with the reference alone)")
      ->check(at_least(1, true));
  b->add_option("--repetitions,-r", a.repetitions, "timed repetitions (default: 5, the fewest with which compare's U test can decide at alpha 0.05 with margin)")
      ->check(at_least(1, true));
  b->add_option("--warmup", a.warmup, "untimed runs before them (default: 1)")->check(at_least(0, true));
  b->add_option("--format,--output,-o", a.format,
                "table, json (the record), csv, jsonl or sql (one flat row per result: plain numbers in the row's unit, "
                "with model, GPU, commit and time), md")
      ->check(CLI::IsMember({"table", "json", "csv", "jsonl", "sql", "md"}))
      ->capture_default_str();
  b->add_option("--vram-budget", a.vram_budget,
                "refuse, before generating or allocating, a model and context whose memory plan exceeds this (e.g. 8GiB, 16G)");
  b->add_option("--profile", a.profile,
                "t4: budget 15.0 GiB (a 16 GB T4's usable memory) unless --vram-budget is given; record the profile "
                "and print a T4 projection (320 GB/s, 65 TFLOP/s fp16) beside the measured numbers")
      ->check(CLI::IsMember({"t4"}));
  return b;
}

int cmd_bench(const BenchArgs& a) {
  force_ptx_jit(a.profile);  // before select_backends, the first CUDA call
  const auto backends = select_backends(a.backend);
  std::vector<const BackendEntry*> entries;
  for (const auto& b : backends) entries.push_back(find_backend(b));
  const BackendEntry* dev = device_entry(backends);
  const int64_t budget = budget_bytes(a.vram_budget, a.profile);
  const std::string path = resolve_model(a.model);

  // the plan needs only shapes: a synthetic model is planned before its weights exist
  std::unique_ptr<Model> model;
  ModelConfig cfg;
  std::vector<WeightEntry> weights;
  if (is_synthetic_spec(path)) {
    const SyntheticSpec s = parse_synthetic_spec(path);
    cfg = synthetic_preset(s.preset).cfg;
    weights = synthetic_weights(cfg, s.dtype);
  } else {
    model = load_model(path);
    cfg = model->cfg;
    weights = model_weights(*model);
  }
  const Settings set = choose_settings(a, backends, cfg);
  int64_t prefill = 1, context = 1;
  for (int p : set.prompt_lengths) prefill = std::max<int64_t>(prefill, p), context = std::max<int64_t>(context, p);
  for (int d : set.depths)
    prefill = std::max<int64_t>(prefill, d), context = std::max<int64_t>(context, (int64_t)d + set.gen_tokens);

  std::vector<MemoryPlan> plans;
  for (const auto& b : backends) {
    plans.push_back(plan_memory(b, cfg, weights, context, prefill));
    if (budget)
      check_memory_budget(plans.back(), budget,
                          str(a.model, " (bench: ", context, " tokens of context, prefill of ", prefill, ")"));
  }
  std::fprintf(stderr, "bench: %s on %s: %s\n", a.model.c_str(), a.backend.c_str(), set.why.c_str());
  check_t4_code_path(a.profile, dev);
  json gpu = gpu_json(dev);  // clocks and temperature before the ceilings and the runs
  const BenchCeilings ceil = bench_ceilings(a.profile, entries);
  if (!model) {
    std::fprintf(stderr, "bench: generating synthetic weights (%s) ...\n", human_bytes(plans[0].weights).c_str());
    model = load_model(path);
  }

  json results = json::array();
  std::vector<int64_t> peaks;
  const int per_backend = (int)(set.prompt_lengths.size() + set.depths.size());
  Progress progress(per_backend * (int)backends.size());
  std::vector<json> measured_mem(backends.size());
  json descriptions = json::object();
  for (size_t bi = 0; bi < backends.size(); bi++) {
    const std::string& b = backends[bi];
    const bool simulated = entries[bi] && entries[bi]->simulated;
    const size_t first_result = results.size();
    auto be = make_backend(b, *model);
    // the KV cache and activations sized once, as planned, instead of grown on demand
    be->reserve((int)context, (int)prefill);
    for (int P : set.prompt_lengths) {
      std::vector<double> tps, ttft;
      for (int r = 0; r < set.warmup + set.repetitions; r++) {
        progress.step(str(b, " pp", P, r < set.warmup ? " warm-up" : str(" repetition ", r - set.warmup + 1, "/", set.repetitions)));
        const PrefillRun run = run_prefill(*be, cfg, P);
        if (r < set.warmup) continue;
        tps.push_back(P / run.prefill_s);
        ttft.push_back(1000 * run.ttft_s);
      }
      results.push_back(result(b, "prefill_tokens_per_s", P, nullptr, "tokens/s", true, tps));
      results.push_back(result(b, "ttft_ms", P, nullptr, "ms", false, ttft));
      progress.done(str(b, " pp", P, ": ", num(stats(tps).median), " tokens/s, TTFT ", num(stats(ttft).median),
                        " ms (median of ", set.repetitions, ")", simulated ? ", simulated: not speed" : ""));
    }
    for (int d : set.depths) {
      std::vector<double> tps, p50, p90, p99;
      for (int r = 0; r < set.warmup + set.repetitions; r++) {
        progress.step(str(b, " tg", set.gen_tokens, " @d", d, r < set.warmup ? " warm-up" : str(" repetition ", r - set.warmup + 1, "/", set.repetitions)));
        const auto lat = run_decode(*be, cfg, d, set.gen_tokens);
        if (r < set.warmup) continue;
        tps.push_back(set.gen_tokens / std::accumulate(lat.begin(), lat.end(), 0.0));
        p50.push_back(1000 * percentile(lat, 0.50));
        p90.push_back(1000 * percentile(lat, 0.90));
        p99.push_back(1000 * percentile(lat, 0.99));
      }
      results.push_back(result(b, "decode_tokens_per_s", nullptr, d, "tokens/s", true, tps));
      results.push_back(result(b, "token_latency_ms_p50", nullptr, d, "ms", false, p50));
      results.push_back(result(b, "token_latency_ms_p90", nullptr, d, "ms", false, p90));
      results.push_back(result(b, "token_latency_ms_p99", nullptr, d, "ms", false, p99));
      if (ceil.bandwidth_bytes_per_s > 0 && on_gpu(entries[bi])) {
        // tokens/s over the roofline's tokens/s: bandwidth / (weights + KV cache of `depth` tokens)
        const double roof = ceil.bandwidth_bytes_per_s / decode_bytes_per_token(plans[bi], d);
        std::vector<double> eff;
        for (double t : tps) eff.push_back(t / roof);
        results.push_back(result(b, "decode_efficiency", nullptr, d, "fraction", true, eff));
        if (ceil.source == "published")
          results.back()["note"] = str("against the ", a.profile, "'s published bandwidth, not one measured here");
      } else {
        results.push_back(null_result(b, "decode_efficiency", nullptr, d, "fraction", true,
                                      simulated ? str("no efficiency: ", b, " runs on a simulated device, whose times "
                                                      "are not speed")
                                      : on_gpu(entries[bi]) ? "no bandwidth ceiling was measured"
                                                            : str("no bandwidth ceiling: ", b, " runs on the CPU")));
      }
      progress.done(str(b, " tg", set.gen_tokens, " @d", d, ": ", num(stats(tps).median), " tokens/s, p50 ",
                        num(stats(p50).median), " ms/token (median of ", set.repetitions, ")",
                        simulated ? ", simulated: not speed" : ""));
    }
    const int64_t peak = be->memory_bytes();
    peaks.push_back(peak);
    measured_mem[bi] = measured_memory_json(*be);
    results.push_back(result(b, "peak_memory_bytes", nullptr, nullptr, "bytes", false, {(double)peak}));
    if (simulated)  // its times are the simulator's
      for (size_t i = first_result; i < results.size(); i++)
        if (results[i]["unit"] == "tokens/s" || results[i]["unit"] == "ms") {
          results[i]["simulated"] = true;
          results[i]["note"] = str(b, " runs on a simulated device: the simulator's times, not speed");
        }
    descriptions[b] = be->description();  // after the runs: what the backend decided while running
  }

  json rec;
  rec["kind"] = "bench";
  rec["format_version"] = 1;
  rec["created_utc"] = iso_utc_now();
  rec["environment"] = environment_json();
  gpu_json_end(gpu, dev);
  rec["environment"]["gpu"] = gpu;
  rec["model"] = model_json(a.model, path, cfg, weights);
  rec["config"] = {{"backends", backends}, {"repetitions", set.repetitions}, {"warmup", set.warmup},
                   {"prompt_lengths", set.prompt_lengths}, {"depths", set.depths}, {"gen_tokens", set.gen_tokens},
                   {"profile", a.profile.empty() ? json(nullptr) : json(a.profile)},
                   {"vram_budget_bytes", budget ? json(budget) : json(nullptr)}};
  rec["descriptions"] = descriptions;
  rec["results"] = results;
  rec["ceilings"] = ceil.record;
  auto mem_of = [&](size_t i, int64_t peak) {
    const json max_ctx = budget ? json(max_context_in_budget(backends[i], cfg, weights, prefill, budget)) : json(nullptr);
    json j = plan_json(plans[i], peak, max_ctx);
    if (!measured_mem[i].is_null()) j["measured"] = measured_mem[i];
    return j;
  };
  rec["memory"] = mem_of(0, peaks[0]);  // the first backend's; every backend's when there are more
  if (backends.size() > 1)
    for (size_t i = 0; i < backends.size(); i++) rec["memory"]["by_backend"][backends[i]] = mem_of(i, peaks[i]);
  if (!a.profile.empty()) {
    const DeviceProfile& dev = device_profile(a.profile);
    const MemoryPlan cuda_plan = plan_memory("cuda", cfg, weights, context, prefill);
    json pr = json::array();
    for (int P : set.prompt_lengths) {
      const double s = projected_forward_s(cuda_plan, cfg, P, 0, dev.bandwidth_bytes_per_s, dev.fp16_flops_per_s);
      pr.push_back({{"metric", "prefill_tokens_per_s"}, {"prompt_length", P}, {"depth", nullptr}, {"unit", "tokens/s"}, {"value", P / s}});
      pr.push_back({{"metric", "ttft_ms"}, {"prompt_length", P}, {"depth", nullptr}, {"unit", "ms"}, {"value", 1000 * s}});
    }
    for (int d : set.depths) {
      double total = 0;
      for (int i = 0; i < set.gen_tokens; i++)
        total += projected_forward_s(cuda_plan, cfg, 1, d + i, dev.bandwidth_bytes_per_s, dev.fp16_flops_per_s);
      pr.push_back({{"metric", "decode_tokens_per_s"}, {"prompt_length", nullptr}, {"depth", d}, {"unit", "tokens/s"},
                    {"value", set.gen_tokens / total}});
    }
    rec["projection"] = {
        {"device", dev.name}, {"label", "projection"}, {"memory_bytes", dev.memory_bytes},
        {"bandwidth_bytes_per_s", dev.bandwidth_bytes_per_s}, {"fp16_flops_per_s", dev.fp16_flops_per_s},
        {"how", str("projection to a ", dev.name, " (", num(dev.bandwidth_bytes_per_s / 1e9), " GB/s, ",
                    num(dev.fp16_flops_per_s / 1e12), " TFLOP/s fp16): max(bytes / bandwidth, FLOPs / peak) per "
                    "forward, weights as the CUDA backend stores them (", human_bytes(cuda_plan.weights),
                    "); a roofline, not a measurement")},
        {"results", pr}};
  }
  const std::string rec_path = new_record_path("bench");
  write_file_atomic(rec_path, rec.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  print_record(rec, a.format);
  std::fprintf(stderr, "bench record: %s\n", rec_path.c_str());
  // the plan was checked before allocating; the device's own count is checked after
  if (budget)
    for (size_t i = 0; i < backends.size(); i++) {
      const json& m = measured_mem[i];
      if (m.is_null()) continue;
      const int64_t used = m["device_peak_bytes"].get<int64_t>();
      if (used > budget) {
        std::fprintf(stderr, "error: %s used %s of device memory (allocator peak + CUDA context) but the memory "
                     "budget allows %s\n", backends[i].c_str(), human_bytes(used).c_str(), human_bytes(budget).c_str());
        return 1;
      }
    }
  return 0;
}

}  // namespace gp
