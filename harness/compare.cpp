// compare.cpp: bench records in, the regression gate out (compare.h).
#include "harness/compare.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <set>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "harness/cli_checks.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/stats.h"
#include "harness/table.h"

namespace gp {

using json = nlohmann::json;
namespace fs = std::filesystem;

// ---------------------------------------------------------------- reading records
namespace {

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GP_CHECK(in.good(), path, ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str(), json_depth_limit(path));
  } catch (const json::exception& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
}

bool is_number_or_null(const json& v) { return v.is_null() || v.is_number(); }

}  // namespace

void check_bench_record(const json& j, const std::string& path) {
  GP_CHECK(j.is_object() && j.value("kind", "") == "bench", path, ": not a bench record (\"kind\" is not \"bench\")");
  GP_CHECK(j.contains("format_version") && j["format_version"].is_number_integer(), path,
           ": bench record without an integer format_version");
  const int v = j["format_version"].get<int>();
  GP_CHECK(v == 1, path, ": bench record format_version ", v, " is not supported (this goldpath reads version 1)");
  GP_CHECK(j.contains("results") && j["results"].is_array(), path, ": bench record without a \"results\" array");
  GP_CHECK(j.contains("environment") && j["environment"].is_object(), path, ": bench record without \"environment\"");
  const json& gpu = j["environment"].value("gpu", json());
  GP_CHECK(gpu.is_null() || (gpu.is_object() && gpu.value("name", json()).is_string()), path,
           ": environment.gpu is neither null nor an object with a \"name\"");
  GP_CHECK(j.contains("model") && j["model"].is_object(), path, ": bench record without \"model\"");
  for (size_t i = 0; i < j["results"].size(); i++) {
    const json& r = j["results"][i];
    const std::string at = path + ": results[" + std::to_string(i) + "]";
    GP_CHECK(r.is_object(), at, " is not an object");
    for (const char* k : {"backend", "metric", "unit"})
      GP_CHECK(r.contains(k) && r[k].is_string(), at, " has no string \"", k, "\"");
    GP_CHECK(r.contains("higher_is_better") && r["higher_is_better"].is_boolean(), at,
             " has no boolean \"higher_is_better\"");
    for (const char* k : {"prompt_length", "depth"})
      GP_CHECK(is_number_or_null(r.value(k, json())), at, " \"", k, "\" is neither a number nor null");
    const json& s = r.value("samples", json());
    GP_CHECK(s.is_null() || s.is_array(), at, " \"samples\" is neither an array nor null");
    if (s.is_array())
      for (const json& x : s) GP_CHECK(x.is_number(), at, " has a sample that is not a number");
    GP_CHECK(is_number_or_null(r.value("median", json())), at, " \"median\" is neither a number nor null");
  }
}

bool is_google_benchmark_json(const json& j) {
  return j.is_object() && j.contains("benchmarks") && j["benchmarks"].is_array() && j.contains("context") &&
         j["context"].is_object();
}

namespace {
json from_google_benchmark(const json& gb, const std::string& path);
}

json bench_record_from_google_benchmark(const json& gb, const std::string& path) {
  GP_CHECK(is_google_benchmark_json(gb), path, ": not Google Benchmark JSON (no \"context\" and \"benchmarks\")");
  for (size_t i = 0; i < gb["benchmarks"].size(); i++) {
    const json& b = gb["benchmarks"][i];
    GP_CHECK(b.is_object() && b.contains("name") && b["name"].is_string(), path, ": benchmarks[", i,
             "] has no string \"name\"");
  }
  try {
    return from_google_benchmark(gb, path);
  } catch (const json::exception& e) {  // a field of the wrong type
    fail(path, ": malformed Google Benchmark JSON: ", e.what());
  }
}

namespace {
json from_google_benchmark(const json& gb, const std::string& path) {
  const json& ctx = gb["context"];
  json rec = {{"kind", "bench"}, {"format_version", 1}, {"results", json::array()}};
  const std::string exe = ctx.value("executable", std::string("?"));
  rec["model"] = {{"name", "google-benchmark " + fs::path(exe).filename().string()}};
  json env = {{"gpu", nullptr}, {"commit", ctx.value("goldpath_commit", std::string("unknown"))}, {"google_benchmark", true}};
  if (ctx.contains("gpu") && ctx["gpu"].is_string()) env["gpu"] = {{"name", ctx["gpu"]}};
  rec["environment"] = env;
  static const std::map<std::string, double> to_ns = {{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  static const std::set<std::string> not_counters = {
      "name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations", "real_time",
      "cpu_time", "time_unit", "family_index", "per_family_instance_index", "aggregate_name", "aggregate_unit",
      "label", "error_occurred", "error_message", "skipped", "skip_message", "big_o", "rms"};
  // run names that have iteration entries; aggregates (mean, median, ...) are used only where none do
  std::set<std::string> iterated;
  for (const json& b : gb["benchmarks"])
    if (b.is_object() && b.value("run_type", std::string("iteration")) == "iteration")
      iterated.insert(b.value("run_name", b.value("name", std::string())));
  for (size_t i = 0; i < gb["benchmarks"].size(); i++) {
    const json& b = gb["benchmarks"][i];
    const std::string at = path + ": benchmarks[" + std::to_string(i) + "]";
    GP_CHECK(b.is_object() && b.contains("name") && b["name"].is_string(), at, " has no string \"name\"");
    if (b.value("error_occurred", false) || b.value("skipped", false)) continue;  // said by the benchmark itself
    const std::string run = b.value("run_name", b["name"].get<std::string>());
    if (b.value("run_type", std::string("iteration")) == "aggregate") {
      if (iterated.count(run) || b.value("aggregate_name", std::string()) != "median") continue;
    }
    const std::string unit = b.value("time_unit", std::string("ns"));
    const auto scale = to_ns.find(unit);
    GP_CHECK(scale != to_ns.end(), at, " has time_unit '", unit, "' (not ns, us, ms or s)");
    auto add = [&](const std::string& metric, const json& v, const std::string& u, bool higher, double k) {
      GP_CHECK(v.is_number(), at, " \"", metric, "\" is not a number");
      rec["results"].push_back({{"backend", run}, {"metric", metric}, {"unit", u}, {"higher_is_better", higher},
                                {"prompt_length", nullptr}, {"depth", nullptr},
                                {"samples", json::array({v.get<double>() * k})}});
    };
    for (const char* t : {"real_time", "cpu_time"})
      if (b.contains(t)) add(t, b[t], "ns", false, scale->second);
    for (const auto& item : b.items()) {  // (a structured binding cannot be captured by the lambda below in C++17)
      const std::string& k = item.key();
      const json& v = item.value();
      if (not_counters.count(k) || !v.is_number()) continue;
      auto ends = [&](const char* suf) {
        const size_t n = std::strlen(suf);
        return k.size() >= n && k.compare(k.size() - n, n, suf) == 0;
      };
      const bool rate = ends("_per_second") || ends("/s") || ends("_of_ceiling");
      add(k, v, rate ? "per second" : ends("bytes") ? "bytes" : "value", rate, 1.0);
    }
  }
  return rec;
}
}  // namespace

std::vector<BenchRecord> load_bench_records(const std::vector<std::string>& paths) {
  std::vector<BenchRecord> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
      std::sort(files.begin(), files.end());
      size_t found = 0;
      for (const std::string& f : files) {
        json j = read_json(f);
        if (is_google_benchmark_json(j)) j = bench_record_from_google_benchmark(j, f);
        if (!j.is_object() || j.value("kind", "") != "bench") continue;  // run records and others
        check_bench_record(j, f);
        out.push_back({f, std::move(j)});
        found++;
      }
      GP_CHECK(found > 0, p, ": folder has no bench records (*.json with \"kind\": \"bench\")");
    } else {
      GP_CHECK(fs::exists(p, ec), p, ": no such file or folder");
      json j = read_json(p);
      if (is_google_benchmark_json(j)) j = bench_record_from_google_benchmark(j, p);
      check_bench_record(j, p);
      out.push_back({p, std::move(j)});
    }
  }
  return out;
}

std::string gpu_folder_name(const json& record) {
  const json& gpu = record.at("environment").value("gpu", json());
  if (gpu.is_null()) return "cpu";
  std::string out;
  for (char c : gpu.at("name").get<std::string>()) {
    const unsigned char u = (unsigned char)c;
    if (std::isalnum(u)) out += (char)std::tolower(u);
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "gpu" : out;
}

// ---------------------------------------------------------------- comparing
namespace {

std::string model_id(const json& r) {
  const json& m = r.at("model");
  std::string s = m.value("name", m.value("spec", std::string("?")));
  if (m.contains("weight_dtype") && m["weight_dtype"].is_string()) s += " " + m["weight_dtype"].get<std::string>();
  if (m.contains("sha256") && m["sha256"].is_string()) s += " (" + m["sha256"].get<std::string>().substr(0, 12) + ")";
  return s;
}

std::string gpu_id(const json& r) {
  const json& gpu = r.at("environment").value("gpu", json());
  return gpu.is_null() ? "no GPU (CPU only)" : gpu.at("name").get<std::string>();
}

std::string num_key(const json& v) { return v.is_null() ? "-" : v.dump(); }

std::string fmt(double v, const char* f = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

struct Side {
  std::string model, gpu;
  std::map<std::string, MetricComparison> metrics;  // only the fields of this side filled
  std::vector<std::string> sample_files;
};

// One side: every record must agree on model and GPU; samples of one metric are pooled.
Side pool(const std::vector<BenchRecord>& recs, const char* what, bool cur, std::vector<std::string>& warnings) {
  Side s;
  GP_CHECK(!recs.empty(), what, ": no bench records");
  s.model = model_id(recs[0].j);
  s.gpu = gpu_id(recs[0].j);
  for (const BenchRecord& r : recs) {
    GP_CHECK(model_id(r.j) == s.model, what, " mixes models (", s.model, " in ", recs[0].path, ", ", model_id(r.j),
             " in ", r.path, "): give records of one model");
    GP_CHECK(gpu_id(r.j) == s.gpu, what, " mixes GPUs (", s.gpu, " in ", recs[0].path, ", ", gpu_id(r.j), " in ",
             r.path, "): give records of one GPU");
    if (r.j["environment"].value("sample", false)) s.sample_files.push_back(r.path);
    for (const json& x : r.j["results"]) {
      MetricComparison m;
      m.backend = x["backend"];
      m.metric = x["metric"];
      m.unit = x["unit"];
      m.higher_is_better = x["higher_is_better"];
      m.prompt_length = x.value("prompt_length", json());
      m.depth = x.value("depth", json());
      std::vector<double> v;
      const json& samples = x.value("samples", json());
      if (samples.is_array() && !samples.empty()) {
        for (const json& y : samples) v.push_back(y.get<double>());
      } else if (x.value("median", json()).is_number()) {
        v.push_back(x["median"].get<double>());  // a record with a summary only counts as one repetition
      }
      const std::string key = m.backend + "|" + m.metric + "|" + num_key(m.prompt_length) + "|" + num_key(m.depth);
      auto it = s.metrics.find(key);
      if (it == s.metrics.end()) it = s.metrics.emplace(key, m).first;
      GP_CHECK(it->second.higher_is_better == m.higher_is_better && it->second.unit == m.unit, what, ": metric ",
               m.metric, " has different units or directions in ", r.path);
      std::vector<double>& dst = cur ? it->second.cur : it->second.base;
      dst.insert(dst.end(), v.begin(), v.end());
    }
  }
  for (const std::string& f : s.sample_files)
    warnings.push_back(std::string(what) + " " + f + " is a sample record (\"sample\": true), not a measurement");
  return s;
}

void judge(MetricComparison& m, const CompareOptions& o) {
  if (m.base.empty() && m.cur.empty()) {
    m.verdict = "no value on either side";
    return;
  }
  if (m.base.empty()) {
    m.cur_median = median(m.cur);
    m.verdict = "new (not in baseline)";
    return;
  }
  m.base_median = median(m.base);
  if (m.cur.empty()) {
    m.verdict = "missing in current";
    return;
  }
  m.cur_median = median(m.cur);
  const double d = m.cur_median - m.base_median;
  m.change_pct = m.base_median != 0 ? 100 * d / std::fabs(m.base_median) : (d == 0 ? 0 : d > 0 ? INFINITY : -INFINITY);
  const bool worse_dir = m.higher_is_better ? d < 0 : d > 0;
  const bool beyond = std::fabs(m.change_pct) > o.threshold_pct;
  auto set_direction = [&] {
    if (d == 0) {
      m.verdict = "no change";
    } else if (!worse_dir) {
      m.verdict = "better";
    } else if (beyond) {
      m.verdict = "worse";
      m.regression = true;
    } else {
      m.verdict = "worse, within " + fmt(o.threshold_pct, "%g") + "% threshold";
    }
  };
  // a deterministic metric: every repetition on each side gave one value, and
  // it is a count (bytes: peak memory has one sample per record) or there are
  // repetitions to show it
  const bool constant = stddev(m.base) == 0 && stddev(m.cur) == 0;
  const bool deterministic = constant && (m.unit == "bytes" || m.unit == "count" || (m.base.size() > 1 && m.cur.size() > 1));
  if (deterministic) {
    set_direction();
    if (d != 0) m.verdict += " (deterministic)";
    return;
  }
  m.p_value = mann_whitney_u(m.base, m.cur).p_value;
  if (m.p_value < o.alpha) {
    set_direction();
  } else if (mann_whitney_min_p((int)m.base.size(), (int)m.cur.size()) >= o.alpha) {
    m.undecided = true;
    m.verdict = "too few repetitions to tell (" + std::to_string(m.base.size()) + " vs " +
                std::to_string(m.cur.size()) + "; needs " + std::to_string(mann_whitney_min_repetitions(o.alpha)) +
                " per side at alpha " + fmt(o.alpha, "%g") + ")";
  } else {
    m.verdict = "no significant change";
  }
}

std::string where(const MetricComparison& m) {
  std::string s = m.backend + " " + m.metric;
  if (!m.prompt_length.is_null()) s += " prompt " + m.prompt_length.dump();
  if (!m.depth.is_null()) s += " depth " + m.depth.dump();
  return s;
}

}  // namespace

Comparison compare_records(const std::vector<BenchRecord>& baseline, const std::vector<BenchRecord>& current,
                           const CompareOptions& o) {
  GP_CHECK(o.alpha > 0 && o.alpha < 1, "--alpha ", o.alpha, " is outside (0, 1)");
  GP_CHECK(o.threshold_pct >= 0, "--threshold ", o.threshold_pct, " is negative");
  Comparison c;
  Side b = pool(baseline, "baseline", false, c.warnings);
  Side k = pool(current, "current", true, c.warnings);
  if (b.model != k.model) {
    GP_CHECK(!o.strict, "baseline and current measure different models (", b.model, " vs ", k.model, ")");
    c.warnings.push_back("different models: baseline " + b.model + ", current " + k.model);
  }
  if (b.gpu != k.gpu) {
    GP_CHECK(!o.strict, "baseline and current ran on different GPUs (", b.gpu, " vs ", k.gpu, ")");
    c.warnings.push_back("different GPUs: baseline " + b.gpu + ", current " + k.gpu);
  }
  std::map<std::string, MetricComparison> all = b.metrics;
  for (auto& [key, m] : k.metrics) {
    auto it = all.find(key);
    if (it == all.end()) all.emplace(key, m);
    else it->second.cur = m.cur;
  }
  // report order: as the records list them is lost in the map; sort by backend, metric, then numbers
  for (auto& [key, m] : all) c.rows.push_back(m);
  auto num = [](const json& v) { return v.is_null() ? -1.0 : v.get<double>(); };
  std::stable_sort(c.rows.begin(), c.rows.end(), [&](const MetricComparison& x, const MetricComparison& y) {
    return std::make_tuple(x.backend, x.metric, num(x.prompt_length), num(x.depth)) <
           std::make_tuple(y.backend, y.metric, num(y.prompt_length), num(y.depth));
  });
  for (MetricComparison& m : c.rows) {
    judge(m, o);
    c.regression = c.regression || m.regression;
    c.undecided += m.undecided;
    if (!m.base.empty() && m.cur.empty()) c.warnings.push_back("missing in current: " + where(m));
  }
  return c;
}

std::string render_comparison(const Comparison& c, const CompareOptions& o) {
  if (o.format == "json") {
    json j;
    j["kind"] = "compare";
    j["threshold_pct"] = o.threshold_pct;
    j["alpha"] = o.alpha;
    j["regression"] = c.regression;
    j["undecided"] = c.undecided;
    j["inconclusive"] = !c.regression && c.undecided > 0;
    j["warnings"] = c.warnings;
    j["metrics"] = json::array();
    for (const MetricComparison& m : c.rows) {
      auto opt = [](bool has, double v) { return has && std::isfinite(v) ? json(v) : json(nullptr); };
      j["metrics"].push_back({{"backend", m.backend}, {"metric", m.metric}, {"prompt_length", m.prompt_length},
                              {"depth", m.depth}, {"unit", m.unit}, {"higher_is_better", m.higher_is_better},
                              {"baseline_n", m.base.size()}, {"current_n", m.cur.size()},
                              {"baseline_median", opt(!m.base.empty(), m.base_median)},
                              {"current_median", opt(!m.cur.empty(), m.cur_median)},
                              {"change_pct", opt(!m.base.empty() && !m.cur.empty(), m.change_pct)},
                              {"p_value", opt(m.p_value >= 0, m.p_value)}, {"verdict", m.verdict},
                              {"regression", m.regression}});
    }
    return j.dump(2) + "\n";
  }
  const std::vector<std::string> header = {"backend", "metric", "prompt", "depth", "unit", "baseline", "current",
                                           "change", "p-value", "n", "verdict"};
  std::vector<std::vector<std::string>> rows;
  for (const MetricComparison& m : c.rows) {
    const bool both = !m.base.empty() && !m.cur.empty();
    rows.push_back({m.backend, m.metric, num_key(m.prompt_length), num_key(m.depth), m.unit,
                    m.base.empty() ? "-" : fmt(m.base_median), m.cur.empty() ? "-" : fmt(m.cur_median),
                    both ? fmt(m.change_pct, "%+.1f%%") : "-", m.p_value >= 0 ? fmt(m.p_value, "%.3g") : "-",
                    std::to_string(m.base.size()) + "/" + std::to_string(m.cur.size()),
                    m.regression ? "WORSE" : m.verdict});
  }
  int worse = 0;
  for (const MetricComparison& m : c.rows) worse += m.regression;
  const std::string summary =
      worse ? std::to_string(worse) + " metric" + (worse > 1 ? "s" : "") + " significantly worse by more than " +
                  fmt(o.threshold_pct, "%g") + "% (U test, alpha " + fmt(o.alpha, "%g") + ")"
            : c.undecided ? "INCONCLUSIVE: " + std::to_string(c.undecided) + " of " + std::to_string(c.rows.size()) +
                                " metrics have too few repetitions to decide (U test, alpha " + fmt(o.alpha, "%g") +
                                ", needs " + std::to_string(mann_whitney_min_repetitions(o.alpha)) +
                                " per side); no regression found in the rest"
                          : "no significant regression beyond " + fmt(o.threshold_pct, "%g") + "% in " +
                                std::to_string(c.rows.size()) + " metrics (U test, alpha " + fmt(o.alpha, "%g") + ")";
  const std::string extra =
      worse && c.undecided ? "\n" + std::to_string(c.undecided) + " more metrics have too few repetitions to decide" : "";
  std::string out;
  if (o.format == "md") {
    for (const std::string& w : c.warnings) out += "> warning: " + w + "\n";
    if (!c.warnings.empty()) out += "\n";
    auto line = [](const std::vector<std::string>& r) {
      std::string s = "|";
      for (const std::string& x : r) s += " " + x + " |";
      return s + "\n";
    };
    out += line(header);
    std::string rule = "|";
    for (size_t i = 0; i < header.size(); i++) rule += i >= 5 && i <= 8 ? "---:|" : "---|";
    out += rule + "\n";
    for (auto& r : rows) {
      if (r.back() == "WORSE") r.back() = "**worse**";
      out += line(r);
    }
    return out + "\n" + summary + extra + "\n";
  }
  Table t(header);
  for (auto& r : rows) t.add(r);
  return t.render() + summary + extra + "\n";
}

CLI::App* add_compare_command(CLI::App& app, CompareArgs& a) {
  auto* c = app.add_subcommand("compare",
                               "regression gate: bench records BASELINE vs CURRENT, per metric, Mann-Whitney U test; "
                               "exit 1 when a metric is significantly worse beyond the threshold");
  c->add_option("BASELINE", a.baseline, "a bench record, a folder of them, or reports/baselines (the GPU's folder is taken)")
      ->required();
  c->add_option("CURRENT", a.current, "a bench record or a folder of them")->required();
  c->add_option("--threshold", a.o.threshold_pct, "percent a significant worsening must exceed to fail")
      ->check(at_least(0, false))
      ->capture_default_str();
  c->add_option("--alpha", a.o.alpha, "significance level of the U test")
      ->check(between(1e-9, 0.5))
      ->capture_default_str();
  c->add_option("--format", a.o.format)->check(CLI::IsMember({"table", "json", "md"}))->capture_default_str();
  c->add_flag("--strict", a.o.strict, "refuse records of different models or GPUs instead of warning");
  return c;
}

int cmd_compare(const CompareArgs& a) {
  const std::string& baseline = a.baseline;
  const std::string& current = a.current;
  const CompareOptions& o = a.o;
  try {
    GP_CHECK(o.format == "table" || o.format == "json" || o.format == "md", "--format ", o.format,
             " is not one of table, json, md");
    const std::vector<BenchRecord> cur = load_bench_records({current});
    std::string base_path = baseline;
    std::error_code ec;
    if (fs::is_directory(baseline, ec)) {
      bool has_json = false;
      std::vector<std::string> subdirs;
      for (const auto& e : fs::directory_iterator(baseline)) {
        has_json = has_json || (e.is_regular_file() && e.path().extension() == ".json");
        if (e.is_directory()) subdirs.push_back(e.path().filename().string());
      }
      if (!has_json && !subdirs.empty()) {  // reports/baselines: one folder per GPU
        const std::string gpu = gpu_folder_name(cur[0].j);
        std::sort(subdirs.begin(), subdirs.end());
        std::string have;
        for (const auto& s : subdirs) have += (have.empty() ? "" : ", ") + s;
        GP_CHECK(std::find(subdirs.begin(), subdirs.end(), gpu) != subdirs.end(), baseline,
                 " has no baselines for GPU folder '", gpu, "' (has: ", have, ")");
        base_path = (fs::path(baseline) / gpu).string();
      }
    }
    const std::vector<BenchRecord> base = load_bench_records({base_path});
    const Comparison c = compare_records(base, cur, o);
    for (const std::string& w : c.warnings) std::fprintf(stderr, "goldpath compare: warning: %s\n", w.c_str());
    std::cout << render_comparison(c, o) << std::flush;
    return c.regression ? kCompareRegression : c.undecided ? kCompareInconclusive : kCompareNoRegression;
  } catch (const Error& e) {
    std::fprintf(stderr, "goldpath: error: %s\n", e.what());
    return kCompareCannotCompare;
  }
}

}  // namespace gp
