// ops_cmd.cpp: `goldpath ops` (ops_cmd.h).
#include "harness/ops_cmd.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/backend_registry.h"
#include "core/error.h"
#include "core/metrics.h"
#include "core/ops.h"
#include "core/stats.h"
#include "harness/backends.h"
#include "harness/cli_checks.h"
#include "harness/table.h"

namespace gp {
namespace {

std::string op_of(const std::string& entry) { return entry.substr(0, entry.find('.')); }

bool entry_selected(const std::string& want, const std::string& entry) {
  return want.empty() || want == entry || want == op_of(entry);
}

std::string dims_text(const OpShape& s) {
  std::string out;
  for (const auto& [k, v] : s.dims) out += (out.empty() ? "" : " ") + k + "=" + std::to_string(v);
  return out;
}

std::string fmt(double v, const char* f = "%.3g") {
  char b[48];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// Rows of x compared for a linear too large for the naive reference to run
// whole (every row of a linear is independent): all rows when T * K * N is
// small, else 8 spread over T, first and last included.
std::vector<int64_t> sampled_rows(const OpSpec& spec, const OpArgs& in) {
  if (spec.name != "linear") return {};
  const int64_t T = in.in("x").shape[0], K = in.in("x").shape[1], N = in.in("weight").shape[0];
  if ((double)T * K * N <= 2e8) return {};
  std::vector<int64_t> rows;
  for (int i = 0; i < 8; i++) rows.push_back(i * (T - 1) / 7);
  return rows;
}

std::vector<float> pick_rows(const std::vector<float>& all, const std::vector<int64_t>& rows, int64_t width) {
  std::vector<float> out;
  for (int64_t t : rows) out.insert(out.end(), all.begin() + t * width, all.begin() + (t + 1) * width);
  return out;
}

using Row = OpCaseResult;

nlohmann::json row_json(const Row& r) {
  nlohmann::json j = {{"backend", r.backend}, {"entry", r.entry}, {"shape", r.shape}, {"wtype", r.wtype},
                      {"result", r.result}};
  if (!r.detail.empty()) j["detail"] = r.detail;
  if (r.compared) j.update({{"max_abs", r.max_abs}, {"tolerance", r.bound}, {"nmse", r.nmse}, {"compared", r.compared}});
  return j;
}

}  // namespace

OpCaseResult check_op_case(const BackendEntry& be, const std::string& entry, const OpFn& fn, const OpSpec& spec,
                           size_t si, const std::map<std::string, OpFn>& ref, uint64_t seed, double sim_max_gflop) {
  const OpShape& sh = spec.shapes[si];
  Row r{be.name, entry, sh.label, dtype_name(sh.wtype), "", ""};
  const double gflop = spec.flops(sh) / 1e9;
  if (be.simulated && gflop > sim_max_gflop) {
    r.result = "SKIP";
    r.detail = str(fmt(gflop), " GFLOP on the simulated device would take minutes (--sim-max-gflop ", sim_max_gflop,
                   " to raise the limit)");
    return r;
  }
  OpArgs in;
  spec.make_inputs(sh, seed + si, in);
  OpArgs got = in;
  try {
    fn(got);
  } catch (const UnsupportedOp& e) {
    r.result = "SKIP";
    r.detail = e.what();
    return r;
  } catch (const Error& e) {
    r.result = "FAIL";
    r.detail = e.what();
    return r;
  }
  // the reference, on the sampled rows of a large linear
  OpArgs want = in;
  const std::vector<int64_t> rows = sampled_rows(spec, in);
  if (!rows.empty()) {
    const HostTensor& x = in.in("x");
    HostTensor sub = x;
    sub.shape = {(int64_t)rows.size(), x.shape[1]};
    sub.f = pick_rows(x.f, rows, x.shape[1]);
    want.t["x"] = sub;
  }
  const auto rf = ref.find(spec.name);
  GP_CHECK(rf != ref.end(), "the reference has no op ", spec.name);
  rf->second(want);
  const std::vector<float>& w = want.out().f;
  std::vector<float> g = got.out().f;
  if (!rows.empty()) g = pick_rows(g, rows, got.out().shape.back());
  if (g.size() != w.size() || (rows.empty() && got.out().shape != want.out().shape)) {
    r.result = "FAIL";
    r.detail = str(g.size(), " values, the reference gives ", w.size(), rows.empty() ? " (or in another shape)" : "");
    return r;
  }
  double max_want = 0;
  for (float v : w) max_want = std::max(max_want, (double)std::fabs(v));
  const Tolerance& tol = spec.tolerance.at(be.storage);
  const ErrorStats s = compare(g.data(), w.data(), (int64_t)w.size());
  r.bound = tol.bound(0.0, max_want);  // random inputs have no low-precision oracle: the tolerance's floor
  r.max_abs = s.max_abs;
  r.nmse = s.nmse;
  r.compared = (int64_t)w.size();
  const bool ok = s.non_finite == 0 && s.max_abs <= r.bound;
  r.result = ok ? "OK" : "FAIL";
  if (!ok)
    r.detail = str(s.non_finite ? str(s.non_finite, " non-finite values; ") : std::string(), "max abs ", fmt(s.max_abs),
                   " at ", format_index(s.max_abs_at, {(int64_t)w.size()}), " over the tolerance ", fmt(r.bound), " (",
                   tol.reason, ")");
  else if (!rows.empty())
    r.detail = str("rows ", rows.size(), " of ", in.in("x").shape[0], " compared");
  return r;
}

namespace {

std::vector<const BackendEntry*> chosen_backends(const std::string& b, bool with_reference) {
  std::vector<const BackendEntry*> out;
  for (const std::string& name : select_backends(b))
    if (with_reference || name != "reference") out.push_back(find_backend(name));
  return out;
}

int do_list(const OpsArgs& a) {
  nlohmann::json j = nlohmann::json::array();
  Table t({"op", "shape", "dims", "weight", "MB moved", "MFLOP", "operands"});
  bool any = false;
  for (const OpSpec& op : op_registry()) {
    if (!a.op.empty() && a.op != op.name) continue;
    any = true;
    for (const OpShape& sh : op.shapes) {
      if (sh.label.find(a.shape) == std::string::npos) continue;
      j.push_back({{"op", op.name}, {"signature", op.signature}, {"shape", sh.label}, {"dims", sh.dims},
                   {"wtype", dtype_name(sh.wtype)}, {"bytes", op.bytes(sh)}, {"flops", op.flops(sh)}});
      t.add({op.name, sh.label, dims_text(sh), dtype_name(sh.wtype), fmt(op.bytes(sh) / 1e6), fmt(op.flops(sh) / 1e6),
             op.signature});
    }
  }
  GP_CHECK(any, "--op ", a.op, " is not a registered op");
  if (a.format == "json") std::cout << j.dump(2) << "\n";
  else std::cout << t.render();
  return 0;
}

int do_support(const OpsArgs& a) {
  std::vector<const BackendEntry*> bes;
  for (const BackendEntry* e : registered_backends()) bes.push_back(e);  // listed without a device
  std::vector<std::string> entries;
  for (const OpSpec& op : op_registry()) {
    std::vector<std::string> mine = {op.name};
    for (const BackendEntry* e : bes)
      for (const auto& [name, fn] : e->ops())
        if (op_of(name) == op.name && std::find(mine.begin(), mine.end(), name) == mine.end()) mine.push_back(name);
    std::sort(mine.begin() + 1, mine.end());
    for (const std::string& m : mine)
      if (entry_selected(a.op, m)) entries.push_back(m);
  }
  GP_CHECK(!entries.empty(), "--op ", a.op, " is not a registered op or version");
  std::vector<std::string> head = {"op entry"};
  for (const BackendEntry* e : bes) head.push_back(e->name + (e->unavailable().empty() ? "" : " (not here)"));
  Table t(head);
  nlohmann::json j = nlohmann::json::object();
  for (const std::string& m : entries) {
    std::vector<std::string> row = {m};
    for (const BackendEntry* e : bes) {
      const bool has = e->ops().count(m) > 0;
      row.push_back(has ? "yes" : "-");
      j[m][e->name] = has;
    }
    t.add(row);
  }
  if (a.format == "json") std::cout << j.dump(2) << "\n";
  else std::cout << t.render();
  return 0;
}

int do_perf(const OpsArgs& a) {
  nlohmann::json j = nlohmann::json::array();
  Table t({"backend", "op entry", "shape", "weight", "median us", "GB/s", "GFLOP/s", "reps"});
  for (const BackendEntry* be : chosen_backends(a.backend, true)) {
    if (be->simulated || be->device_info) {
      std::fprintf(stderr, "ops --mode perf: backend %s not timed: %s\n", be->name.c_str(),
                   be->simulated ? "the simulated device checks function, its times are not speed"
                                 : "a device backend's op entries upload and download their operands on every call; "
                                   "bench/ops_bench times its kernels on operands uploaded once, with CUDA events "
                                   "(build/bench/ops_bench --benchmark_filter=OP/)");
      continue;
    }
    for (const auto& [entry, fn] : be->ops()) {
      if (!entry_selected(a.op, entry)) continue;
      const OpSpec* spec = find_op(op_of(entry));
      if (!spec) continue;
      for (size_t si = 0; si < spec->shapes.size(); si++) {
        const OpShape& sh = spec->shapes[si];
        if (sh.label.find(a.shape) == std::string::npos) continue;
        OpArgs in;
        spec->make_inputs(sh, a.seed + si, in);
        std::vector<double> us;
        for (int r = 0; r <= a.repetitions; r++) {  // the first is a warm-up
          OpArgs x = in;
          const auto t0 = std::chrono::steady_clock::now();
          fn(x);
          const double d = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
          if (r) us.push_back(d);
        }
        const double m = median(us), s = m * 1e-6;
        j.push_back({{"backend", be->name}, {"entry", entry}, {"shape", sh.label}, {"wtype", dtype_name(sh.wtype)},
                     {"median_us", m}, {"bytes_per_second", spec->bytes(sh) / s}, {"flops_per_second", spec->flops(sh) / s},
                     {"repetitions", a.repetitions}, {"samples_us", us}});
        t.add({be->name, entry, sh.label, dtype_name(sh.wtype), fmt(m, "%.1f"), fmt(spec->bytes(sh) / s / 1e9),
               fmt(spec->flops(sh) / s / 1e9), std::to_string(a.repetitions)});
      }
    }
  }
  if (a.format == "json") std::cout << j.dump(2) << "\n";
  else std::cout << t.render();
  return 0;
}

int do_test(const OpsArgs& a) {
  const std::map<std::string, OpFn>& ref = backend_ops("reference");
  std::vector<const BackendEntry*> bes = chosen_backends(a.backend, false);
  GP_CHECK(!bes.empty(), "ops --mode test: no backend but the reference can run here (it is the base the others are "
                         "held to; goldpath --list-backends says why the others cannot)");
  std::vector<Row> rows;
  int pass = 0, fail = 0, skip = 0;
  bool any_entry = false;
  for (const BackendEntry* be : bes) {
    for (const auto& [entry, fn] : be->ops()) {
      if (!entry_selected(a.op, entry)) continue;
      const OpSpec* spec = find_op(op_of(entry));
      GP_CHECK(spec, "backend ", be->name, " has op entry ", entry, " for no registered op");
      any_entry = true;
      for (size_t si = 0; si < spec->shapes.size(); si++) {
        if (spec->shapes[si].label.find(a.shape) == std::string::npos) continue;
        Row r = check_op_case(*be, entry, fn, *spec, si, ref, a.seed, a.sim_max_gflop);
        (r.result == "OK" ? pass : r.result == "SKIP" ? skip : fail)++;
        if (a.format == "table")
          std::printf("  %-9s %-16s %-24s %-5s %s%s%s\n", r.backend.c_str(), r.entry.c_str(), r.shape.c_str(),
                      r.wtype.c_str(), r.result.c_str(),
                      r.compared ? str("  max abs ", fmt(r.max_abs), " <= ", fmt(r.bound), "").c_str() : "",
                      r.detail.empty() ? "" : ("  " + r.detail).c_str());
        std::fflush(stdout);
        rows.push_back(r);
      }
    }
  }
  GP_CHECK(any_entry, "--op ", a.op, ": no selected backend has such an op or version (goldpath ops --mode support)");
  if (a.format == "json") {
    nlohmann::json j = {{"passed", pass}, {"failed", fail}, {"skipped", skip}, {"cases", nlohmann::json::array()}};
    for (const Row& r : rows) j["cases"].push_back(row_json(r));
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%d passed, %d failed, %d skipped (each against the reference within its op's tolerance for the "
                "backend's activation storage, core/tolerance.h)\n", pass, fail, skip);
  }
  return fail ? 1 : 0;
}

}  // namespace

CLI::App* add_ops_command(CLI::App& app, OpsArgs& a) {
  auto* c = app.add_subcommand("ops", "every op x version x shape of a backend against the reference, as "
                                      "test-backend-ops: --mode test (default), perf or support; --list the registry");
  c->add_option("--op,-o", a.op, "one op (rmsnorm) or one version (linear.mma)");
  c->add_option("--backend,-b", a.backend, "backend name or 'all' (every available one)")->capture_default_str();
  c->add_option("--mode", a.mode)->check(CLI::IsMember({"test", "perf", "support"}))->capture_default_str();
  c->add_option("--shape", a.shape, "only shapes whose label contains this (odd, smollm2-135m, phi-3-mini/decode, ...)");
  c->add_flag("--list", a.list, "list the registry: ops, shapes, bytes and FLOPs");
  c->add_option("--seed", a.seed, "seed of the random inputs")->capture_default_str();
  c->add_option("--sim-max-gflop", a.sim_max_gflop, "simulated device: skip (and say so) shapes above this many GFLOP")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c->add_option("--repetitions,-r", a.repetitions, "perf: timed calls per case, after one warm-up")
      ->check(between(1, 100000))
      ->capture_default_str();
  c->add_option("--format", a.format)->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  return c;
}

int cmd_ops(const OpsArgs& a) {
  if (!a.op.empty())
    GP_CHECK(find_op(op_of(a.op)), "--op ", a.op, " is not a registered op (goldpath ops --list)");
  if (a.list) return do_list(a);
  if (a.mode == "support") return do_support(a);
  if (a.mode == "perf") return do_perf(a);
  return do_test(a);
}

}  // namespace gp
