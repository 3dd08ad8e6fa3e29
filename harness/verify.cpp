// verify.cpp: golden checks (verify.h).
#include "harness/verify.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/error.h"
#include "core/generate.h"
#include "core/metrics.h"
#include "core/tolerance.h"

#ifndef GOLDPATH_SOURCE_DIR
#define GOLDPATH_SOURCE_DIR "."
#endif

namespace gp {
namespace {

bool path_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

double max_abs_of(const float* x, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) m = std::max(m, (double)std::fabs(x[i]));
  return m;
}

// One comparison of a result against a golden dataset.
struct Compared {
  std::string name;
  ErrorStats stats;
  double tol = 0;
  bool pass = true;
  std::string detail;
};

Compared compare_to(const GoldenFile& g, const std::string& ds, const std::string& name,
                    const float* got, const Array<float>& want, const Tolerance& tol) {
  Compared c;
  c.name = name;
  const int64_t n = want.numel();
  c.stats = compare(got, want.data.data(), n);
  const double lowp = g.has_attr(ds, "lowp_max_abs") ? g.attr_double(ds, "lowp_max_abs") : 0.0;
  c.tol = tol.bound(lowp, max_abs_of(want.data.data(), n));
  c.pass = c.stats.non_finite == 0 && c.stats.max_abs <= c.tol;
  if (!c.pass) {
    std::string shape = "(";
    for (size_t i = 0; i < want.shape.size(); i++) shape += (i ? ", " : "") + std::to_string(want.shape[i]);
    shape += ")";
    c.detail = str(name, " ", shape, " vs ", g.path(), ":", ds, "\n");
    for (int64_t i : first_mismatches(got, want.data.data(), n, c.tol, 5))
      c.detail += str("  at ", format_index(i, want.shape), ": got ", got[i], ", want ",
                      want.data[i], ", diff ", std::fabs((double)got[i] - want.data[i]), "\n");
    c.detail += str("  max abs ", c.stats.max_abs, " at ", format_index(c.stats.max_abs_at, want.shape),
                    ", max rel ", c.stats.max_rel, ", NMSE ", c.stats.nmse, ", tolerance ", c.tol,
                    " (", (c.tol > 0 ? 100.0 * c.stats.max_abs / c.tol : INFINITY),
                    "% used; oracle low-precision noise ", lowp, ")");
  }
  return c;
}

// Folds comparisons into one check: the worst by share of tolerance used.
void fold(CheckResult& r, const Compared& c) {
  const double ratio = c.tol > 0 ? c.stats.max_abs / c.tol : INFINITY;
  const double worst = r.tol > 0 ? r.max_abs / r.tol : (r.compared ? INFINITY : -1);
  if (r.compared == 0 || ratio > worst || (!c.pass && r.pass)) {
    r.max_abs = c.stats.max_abs;
    r.nmse = c.stats.nmse;
    r.tol = c.tol;
    r.worst = c.name;
  }
  if (!c.pass) {
    if (r.pass) r.detail = c.detail;  // the first failure tells the story
    r.pass = false;
  }
  r.compared++;
}

// Captures every activation of one forward.
class Capture : public ActivationSink {
 public:
  struct Act {
    std::vector<float> data;
    int64_t rows, cols;
  };
  std::map<std::pair<int, std::string>, Act> acts;
  void on_activation(int layer, const char* point, const float* data, int64_t rows,
                     int64_t cols) override {
    acts[{layer, point}] = Act{std::vector<float>(data, data + rows * cols), rows, cols};
  }
};

}  // namespace

std::string repo_root() {
  const char* env = std::getenv("GOLDPATH_ROOT");
  return env && *env ? env : GOLDPATH_SOURCE_DIR;
}

std::string resolve_model(const std::string& arg) {
  GP_CHECK(!arg.empty(), "--model is empty");
  if (arg == "default") {
    const std::string p = repo_root() + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    GP_CHECK(path_exists(p), "default model ", p,
             " is missing; fetch it with: bash scripts/fetch_model.sh");
    return p;
  }
  if (path_exists(arg)) return arg;
  if (arg[0] != '/' && path_exists(repo_root() + "/" + arg)) return repo_root() + "/" + arg;
  fail("--model ", arg, ": no such file or directory");
}

OpArgs load_op_case(const GoldenFile& g, const std::string& group) {
  OpArgs a;
  const bool has_dtype = g.has_attr(group, "dtype");
  for (const std::string& name : g.children(group)) {
    if (name == "out") continue;
    const std::string ds = group + "/" + name;
    const std::string kind = g.dataset_kind(ds);
    HostTensor h;
    if (kind == "float") {
      auto arr = g.read_f32(ds);
      h.shape = arr.shape;
      h.f = std::move(arr.data);
    } else if (kind == "int") {
      auto arr = g.read_i32(ds);
      h.shape = arr.shape;
      h.i = std::move(arr.data);
    } else if (kind == "uint8") {
      GP_CHECK(has_dtype, g.path(), ": ", ds, " holds raw bytes but ", group, " has no dtype attribute");
      const std::string dt = g.attr_string(group, "dtype");
      GP_CHECK(dtype_from_name(dt, &h.dtype), g.path(), ": ", group, " has unknown dtype '", dt, "'");
      auto arr = g.read_u8(ds);
      h.raw = std::move(arr.data);
      h.shape = {g.attr_int(group, "n"), g.attr_int(group, "k")};
    } else {
      fail(g.path(), ": dataset ", ds, " has an unsupported type");
    }
    a.t[name] = std::move(h);
  }
  for (const std::string& at : g.attr_names(group)) {
    if (g.attr_is_string(group, at)) continue;
    a.p[at] = g.attr_double(group, at);
  }
  return a;
}

std::vector<CheckResult> verify_ops(const GoldenFile& g, const std::string& backend_name,
                                    const std::map<std::string, OpFn>& impl) {
  std::vector<CheckResult> out;
  if (!g.exists("/ops")) return out;
  const std::string model = g.attr_string("/", "goldpath_model");
  for (const std::string& op : g.children("/ops")) {
    for (const std::string& cs : g.children("/ops/" + op)) {
      const std::string group = "/ops/" + op + "/" + cs;
      CheckResult r;
      r.model = model;
      r.check = "op " + op + "/" + cs;
      r.backend = backend_name;
      auto it = impl.find(op);
      if (it == impl.end()) {
        r.pass = false;
        r.detail = str("backend ", backend_name, " has no implementation of op ", op);
        out.push_back(r);
        continue;
      }
      OpArgs a = load_op_case(g, group);
      try {
        it->second(a);
      } catch (const Error& e) {
        r.pass = false;
        r.detail = str(op, "/", cs, ": ", e.what());
        out.push_back(r);
        continue;
      }
      const auto want = g.read_f32(group + "/out");
      const HostTensor& got = a.out();
      if (got.shape != want.shape) {
        r.pass = false;
        r.detail = str(op, "/", cs, ": output has ", got.numel(), " values in another shape than the golden's");
      } else {
        const OpSpec* spec = find_op(op);
        const Tolerance& tol = spec ? spec->tolerance.at(DType::F32) : kReferenceVsGolden;
        fold(r, compare_to(g, group + "/out", op + "/" + cs, got.f.data(), want, tol));
      }
      out.push_back(r);
    }
  }
  return out;
}

std::vector<CheckResult> verify_model(const GoldenFile& g, Backend& be, const Model& m) {
  std::vector<CheckResult> out = verify_forward(g, be, m);
  out.push_back(verify_greedy(g, be, m));
  return out;
}

std::vector<CheckResult> verify_forward(const GoldenFile& g, Backend& be, const Model& m) {
  const ModelConfig& cfg = m.cfg;
  const std::string model = g.attr_string("/", "goldpath_model");
  const auto prompt = g.read_i32("/model/prompt_ids").data;
  const auto gen = g.read_i32("/model/generated_ids").data;
  GP_CHECK(!prompt.empty() && !gen.empty(), g.path(), ": empty prompt_ids or generated_ids");
  for (int32_t id : prompt) GP_CHECK(id >= 0 && id < cfg.vocab_size, g.path(), ": prompt id ", id, " outside the model's vocabulary");
  for (int32_t id : gen) GP_CHECK(id >= 0 && id < cfg.vocab_size, g.path(), ": generated id ", id, " outside the model's vocabulary");
  const int P = (int)prompt.size(), N = (int)gen.size();
  const int64_t V = cfg.vocab_size;

  std::map<std::string, CheckResult> checks;  // by check name, in the order below
  std::vector<std::string> order;
  auto check = [&](const std::string& name) -> CheckResult& {
    auto it = checks.find(name);
    if (it == checks.end()) {
      CheckResult r;
      r.model = model;
      r.check = name;
      r.backend = be.name();
      order.push_back(name);
      it = checks.emplace(name, r).first;
    }
    return it->second;
  };
  check("embedding");
  for (int l = 0; l < cfg.n_layers; l++)
    if (g.exists("/model/prefill/layers/" + std::to_string(l))) check("layer " + std::to_string(l));
  check("final_norm");
  check("logits");

  // activations of one forward against /model/<phase>
  auto compare_phase = [&](const Capture& cap, const std::string& phase, const std::string& label) {
    const std::string base = "/model/" + phase;
    if (!g.exists(base)) return;
    for (const char* point : {"embedding", "final_norm"}) {
      const std::string ds = base + "/" + point;
      if (!g.exists(ds)) continue;
      const auto want = g.read_f32(ds);
      auto it = cap.acts.find({-1, point});
      CheckResult& r = check(point);
      if (it == cap.acts.end() || (int64_t)it->second.data.size() != want.numel()) {
        r.pass = false;
        r.detail = str(label, " ", point, ": backend ", be.name(), " gave no activation of the golden's shape");
        continue;
      }
      fold(r, compare_to(g, ds, label + " " + point, it->second.data.data(), want, kReferenceVsGolden));
    }
    if (!g.exists(base + "/layers")) return;
    for (const std::string& ls : g.children(base + "/layers")) {
      const int l = std::atoi(ls.c_str());
      GP_CHECK(l >= 0 && l < cfg.n_layers && std::to_string(l) == ls, g.path(), ": ", base,
               "/layers/", ls, " is not a layer of this model");
      CheckResult& r = check("layer " + ls);
      // in the order the forward computes them, so the first failure is the earliest
      std::vector<std::string> points = g.children(base + "/layers/" + ls);
      auto rank = [](const std::string& p) {
        static const char* order[] = {"attn_norm", "q", "k", "v", "attn_out", "ffn_norm", "ffn_out", "out"};
        for (int i = 0; i < 8; i++)
          if (p == order[i]) return i;
        return 8;
      };
      std::stable_sort(points.begin(), points.end(),
                       [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
      for (const std::string& point : points) {
        const std::string ds = base + "/layers/" + ls + "/" + point;
        const auto want = g.read_f32(ds);
        auto it = cap.acts.find({l, point});
        const std::string name = label + " layer " + ls + " " + point;
        if (it == cap.acts.end() || (int64_t)it->second.data.size() != want.numel()) {
          if (r.pass) r.detail = str(name, ": backend ", be.name(), " gave no activation of the golden's shape");
          r.pass = false;
          continue;
        }
        fold(r, compare_to(g, ds, name, it->second.data.data(), want, kReferenceVsGolden));
      }
    }
  };

  // logits row s against /model/logits (full) or the top-k values
  Array<float> full;
  int L = 0;
  if (g.exists("/model/logits")) {
    full = g.read_f32("/model/logits");
    GP_CHECK(full.shape.size() == 2 && full.shape[1] == V, g.path(), ": /model/logits is not (steps, ", V, ")");
    L = (int)full.shape[0];
  }
  Array<float> topv;
  Array<int32_t> topi;
  if (g.exists("/model/logits_topk_values")) {
    topv = g.read_f32("/model/logits_topk_values");
    topi = g.read_i32("/model/logits_topk_ids");
    GP_CHECK(topv.shape.size() == 2 && topv.shape == topi.shape && topv.shape[0] >= N, g.path(),
             ": logits_topk_values/ids are not (generated, k)");
  }
  const Tolerance& tol = kReferenceVsGolden;
  auto compare_logits = [&](const float* got, int s) {
    CheckResult& r = check("logits");
    if (s < L) {
      Array<float> row;
      row.shape = {V};
      row.data.assign(full.data.begin() + (int64_t)s * V, full.data.begin() + (int64_t)(s + 1) * V);
      Compared c = compare_to(g, "/model/logits", str("step ", s, " logits"), got, row, tol);
      fold(r, c);
    } else if (!topv.data.empty()) {
      const int64_t k = topv.shape[1];
      Array<float> want;
      want.shape = {k};
      want.data.assign(topv.data.begin() + s * k, topv.data.begin() + (s + 1) * k);
      std::vector<float> picked(k);
      for (int64_t j = 0; j < k; j++) {
        const int32_t id = topi.data[s * k + j];
        GP_CHECK(id >= 0 && id < V, g.path(), ": top-k id ", id, " outside the vocabulary");
        picked[j] = got[id];
      }
      fold(r, compare_to(g, "/model/logits_topk_values", str("step ", s, " top-", k, " logits"),
                         picked.data(), want, tol));
    }
  };

  // prefill, then teacher-forced decode steps
  Capture cap;
  be.set_activation_sink(&cap);
  be.reset();
  const bool all = g.exists("/model/prefill/logits");
  std::vector<float> logits((all ? P : 1) * V);
  try {
    be.forward(prompt.data(), P, 0, logits.data(), all);
    compare_phase(cap, "prefill", "prefill");
    if (all) {
      const auto want = g.read_f32("/model/prefill/logits");
      GP_CHECK(want.numel() == (int64_t)P * V, g.path(), ": /model/prefill/logits is not (", P, ", ", V, ")");
      fold(check("logits"), compare_to(g, "/model/prefill/logits", "prefill logits", logits.data(), want, tol));
    }
    compare_logits(logits.data() + (all ? (int64_t)(P - 1) * V : 0), 0);
    std::vector<float> step(V);
    for (int s = 1; s < N; s++) {
      cap.acts.clear();
      be.forward(&gen[s - 1], 1, P + s - 1, step.data(), false);
      compare_phase(cap, "decode/" + std::to_string(s), "decode " + std::to_string(s));
      compare_logits(step.data(), s);
    }
  } catch (...) {
    be.set_activation_sink(nullptr);
    throw;
  }
  be.set_activation_sink(nullptr);

  std::vector<CheckResult> out;
  for (const auto& name : order) {
    CheckResult& r = checks[name];
    if (r.compared == 0 && r.pass) {
      r.pass = false;
      r.detail = str(g.path(), ": no golden data for ", name);
    }
    out.push_back(r);
  }
  return out;
}

CheckResult verify_greedy(const GoldenFile& g, Backend& be, const Model& m) {
  const ModelConfig& cfg = m.cfg;
  const std::string model = g.attr_string("/", "goldpath_model");
  const auto prompt = g.read_i32("/model/prompt_ids").data;
  const auto gen = g.read_i32("/model/generated_ids").data;
  const int N = (int)gen.size();
  CheckResult greedy;
  greedy.model = model;
  greedy.check = "greedy tokens";
  greedy.backend = be.name();
  GenerateOptions opt;
  opt.max_new_tokens = g.has_attr("/model", "max_new_tokens") ? (int)g.attr_int("/model", "max_new_tokens") : N;
  ModelConfig gcfg = cfg;
  if (g.has_attr("/model", "eos_ids")) {
    gcfg.eos_ids.clear();
    for (int64_t e : g.attr_ints("/model", "eos_ids")) gcfg.eos_ids.push_back((int)e);
  }
  const GenerateResult res = generate(be, gcfg, prompt, opt);
  greedy.compared = 1;
  size_t diff = 0;
  while (diff < res.generated.size() && diff < gen.size() && res.generated[diff] == gen[diff]) diff++;
  greedy.pass = res.generated.size() == gen.size() && diff == gen.size();
  greedy.max_abs = greedy.pass ? 0 : 1;
  greedy.worst = str(res.generated.size(), " of ", gen.size(), " tokens");
  if (!greedy.pass) {
    greedy.detail = str("greedy ids differ from ", g.path(), " at position ", diff, ": got ",
                        diff < res.generated.size() ? std::to_string(res.generated[diff]) : "end",
                        ", want ", diff < gen.size() ? std::to_string(gen[diff]) : "end", " (",
                        res.generated.size(), " generated, ", gen.size(), " in the golden)");
  }

  return greedy;
}

}  // namespace gp
