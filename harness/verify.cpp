// verify.cpp: golden checks (verify.h).
#include "harness/verify.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/chat.h"
#include "core/generate.h"
#include "core/tokenizer.h"
#include "core/metrics.h"
#include "core/quote.h"
#include "core/synthetic.h"
#include "core/tolerance.h"
#include "harness/backends.h"


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

// The oracle's low-precision noise `ds` is held to: its own lowp_max_abs, or
// `noise` when the caller pooled it (model_noise). `carried` is a bound the
// result may not be held below (the residual stream's, model_noise).
Compared compare_to(const GoldenFile& g, const std::string& ds, const std::string& name,
                    const float* got, const Array<float>& want, const Tolerance& tol,
                    double noise = -1, double carried = 0) {
  Compared c;
  c.name = name;
  const int64_t n = want.numel();
  c.stats = compare(got, want.data.data(), n);
  const double lowp = noise >= 0 ? noise : g.has_attr(ds, "lowp_max_abs") ? g.attr_double(ds, "lowp_max_abs") : 0.0;
  c.tol = std::max(tol.bound(lowp, max_abs_of(want.data.data(), n)), carried);
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
                    "% used; oracle low-precision noise ", lowp,
                    carried > 0 ? str(", carried by the residual stream ", carried) : "", ")");
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

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': case '\t': case '\r': out += (char)c; break;
      default:
        if (c < 0x20) out += "?";  // not allowed in XML 1.0
        else out += (char)c;
    }
  }
  return out;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

std::string verify_junit_xml(const std::vector<CheckResult>& results, const std::map<std::string, std::string>& not_run) {
  // suites in first-seen order
  std::vector<std::string> order;
  std::map<std::string, std::vector<const CheckResult*>> suites;
  for (const CheckResult& r : results) {
    const std::string name = r.model + " [" + r.backend + "]";
    if (!suites.count(name)) order.push_back(name);
    suites[name].push_back(&r);
  }
  int tests = 0, failures = 0, skipped = 0;
  std::string body;
  for (const std::string& name : order) {
    int f = 0, s = 0;
    std::string cases;
    for (const CheckResult* r : suites[name]) {
      f += !r->pass;
      s += r->skipped;
      cases += "    <testcase classname=\"" + xml_escape("verify." + r->model + "." + r->backend) + "\" name=\"" +
               xml_escape(r->check) + "\" time=\"0\">";
      if (!r->pass)
        cases += "\n      <failure message=\"" + xml_escape(first_line(r->detail)) + "\">" + xml_escape(r->detail) +
                 "</failure>\n    ";
      else if (r->skipped)
        cases += "<skipped message=\"" + xml_escape(first_line(r->detail)) + "\"/>";
      else
        cases += "<system-out>" + xml_escape(str("max abs error ", r->max_abs, ", NMSE ", r->nmse, ", tolerance ", r->tol,
                                                 ", ", r->compared, " compared; worst: ", r->worst)) +
                 "</system-out>";
      cases += "</testcase>\n";
    }
    body += "  <testsuite name=\"" + xml_escape(name) + "\" tests=\"" + std::to_string(suites[name].size()) +
            "\" failures=\"" + std::to_string(f) + "\" errors=\"0\" skipped=\"" + std::to_string(s) + "\">\n" + cases +
            "  </testsuite>\n";
    tests += (int)suites[name].size(), failures += f, skipped += s;
  }
  if (!not_run.empty()) {
    body += "  <testsuite name=\"backends not run\" tests=\"" + std::to_string(not_run.size()) +
            "\" failures=\"0\" errors=\"0\" skipped=\"" + std::to_string(not_run.size()) + "\">\n";
    for (const auto& [b, why] : not_run)
      body += "    <testcase classname=\"verify.backends\" name=\"" + xml_escape(b) + "\" time=\"0\"><skipped message=\"" +
              xml_escape(why) + "\"/></testcase>\n";
    body += "  </testsuite>\n";
    tests += (int)not_run.size(), skipped += (int)not_run.size();
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"goldpath verify\" tests=\"" +
         std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"" +
         std::to_string(skipped) + "\">\n" + body + "</testsuites>\n";
}

namespace {

bool holds_data(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(dir / "golden" / "MANIFEST.sha256", ec);
}

std::string find_root() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("GOLDPATH_ROOT"); env && *env) {
    GP_CHECK(holds_data(env), "GOLDPATH_ROOT=", env, " holds no golden/MANIFEST.sha256: point it at goldpath's folder");
    return env;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  GP_CHECK(!ec, "cannot find goldpath's data: /proc/self/exe is unreadable (", ec.message(), "); set GOLDPATH_ROOT");
  std::string looked;
  for (fs::path d = exe.parent_path(); !d.empty(); d = d.parent_path()) {
    if (holds_data(d)) return d.string();
    if (holds_data(d / "share" / "goldpath")) return (d / "share" / "goldpath").string();  // installed: <prefix>/bin
    if (d == d.parent_path()) break;
  }
  fail("cannot find goldpath's data (golden/MANIFEST.sha256) in a folder above the binary ", exe.string(),
       " or in <prefix>/share/goldpath; set GOLDPATH_ROOT to goldpath's folder");
}

}  // namespace

std::string repo_root() {
  // found once: a failure is thrown again on every call, with the same message
  static const std::pair<std::string, std::string> root = [] {
    try {
      return std::make_pair(find_root(), std::string());
    } catch (const Error& e) {
      return std::make_pair(std::string(), std::string(e.what()));
    }
  }();
  if (!root.second.empty()) fail(root.second);
  return root.first;
}

std::string resolve_model(const std::string& arg) {
  GP_CHECK(!arg.empty(), "--model is empty");
  if (is_synthetic_spec(arg)) {
    parse_synthetic_spec(arg);  // a bad preset or dtype fails here; load_model generates it
    return arg;
  }
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
      } catch (const UnsupportedOp& e) {  // not a failure of the kernel: said, not compared
        r.skipped = true;
        r.detail = str(op, "/", cs, ": ", e.what());
        out.push_back(r);
        continue;
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
        const Tolerance& tol = spec ? spec->tolerance.at(storage_dtype(backend_name)) : kReferenceVsGolden;
        fold(r, compare_to(g, group + "/out", op + "/" + cs, got.f.data(), want, tol));
      }
      out.push_back(r);
    }
  }
  return out;
}


namespace {

std::string show_ids(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size() && i < 12; i++) s += (i ? "," : "") + std::to_string(v[i]);
  return s + (v.size() > 12 ? ",...]" : "]");
}

// counts differing items; remembers the first
struct Tally {
  CheckResult r;
  Tally(const std::string& model, const std::string& check, const std::string& backend) {
    r.model = model;
    r.check = check;
    r.backend = backend;
  }
  template <class T>
  void item(const T& got, const T& want, const std::string& what, const std::string& shown_got,
            const std::string& shown_want) {
    r.compared++;
    if (got == want) return;
    if (r.pass) r.detail = str(what, ": got ", shown_got, ", want ", shown_want);
    r.pass = false;
    r.max_abs += 1;
  }
  CheckResult done() {
    r.worst = str(r.compared, " compared");
    if (r.compared == 0) {
      r.pass = false;
      r.detail = "nothing to compare";
    }
    return r;
  }
};

}  // namespace

std::vector<CheckResult> verify_tokenizers(const GoldenFile& g) {
  std::vector<CheckResult> out;
  const std::string root = repo_root();
  for (const std::string& name : g.children("/tokenizers")) {
    const std::string base = "/tokenizers/" + name;
    const std::string model = g.attr_string(base, "goldpath_model");
    const auto corpus = g.read_strings(base + "/corpus");
    const auto ids_special = g.read_ragged_i32(base + "/ids_special");
    const auto ids_plain = g.read_ragged_i32(base + "/ids_plain");
    const auto dec = g.read_strings(base + "/decode");
    const auto dec_skip = g.read_strings(base + "/decode_skip");
    const auto chunks = g.read_strings(base + "/stream");
    const auto steps = g.read_i32(base + "/stream_step").data;
    const auto line_off = g.read_i64(base + "/stream_line_offsets").data;
    const auto extra_names = g.read_strings(base + "/decode_extra_names");
    const auto extra_ids = g.read_ragged_i32(base + "/decode_extra_ids");
    const auto extra = g.read_strings(base + "/decode_extra");
    const auto extra_skip = g.read_strings(base + "/decode_extra_skip");
    const size_t n = corpus.size();
    GP_CHECK(ids_special.size() == n && ids_plain.size() == n && dec.size() == n && dec_skip.size() == n &&
                 line_off.size() == n + 1 && line_off.back() == (int64_t)chunks.size() && steps.size() == chunks.size() &&
                 extra_ids.size() == extra.size() && extra_skip.size() == extra.size() && extra_names.size() == extra.size(),
             g.path(), ": ", base, " datasets disagree in length");

    // the tokenizer.json folder (where the group names one), and for a GGUF model its
    // metadata tokenizer too (read alone: a vocabulary-only GGUF has no weights)
    std::vector<std::pair<std::string, std::unique_ptr<Tokenizer>>> sources;
    const std::string tok_json = g.attr_string(base, "tokenizer_json");
    if (!tok_json.empty()) sources.emplace_back("tokenizer.json", Tokenizer::from_hf_dir(root + "/" + tok_json));
    const std::string mpath = resolve_model(model);
    if (mpath.size() > 5 && mpath.compare(mpath.size() - 5, 5, ".gguf") == 0)
      sources.emplace_back("gguf", Tokenizer::from_path(mpath));
    GP_CHECK(!sources.empty(), g.path(), ": ", base, " names neither a tokenizer.json folder nor a GGUF");
    for (const auto& [src, tok] : sources) {
      const std::string label = "tokenizer " + name;
      Tally enc(model, label + " encode", src), de(model, label + " decode", src), st(model, label + " stream", src),
          ex(model, label + " decode extra", src);
      for (size_t i = 0; i < n; i++) {
        const std::string line = str("line ", i);
        enc.item(tok->encode(corpus[i], true), ids_special[i], line + " with special tokens", show_ids(tok->encode(corpus[i], true)), show_ids(ids_special[i]));
        enc.item(tok->encode(corpus[i], false), ids_plain[i], line + " without special tokens", show_ids(tok->encode(corpus[i], false)), show_ids(ids_plain[i]));
        de.item(tok->decode(ids_special[i], false), dec[i], line, quote(tok->decode(ids_special[i], false)), quote(dec[i]));
        de.item(tok->decode(ids_special[i], true), dec_skip[i], line + " skipping special tokens", quote(tok->decode(ids_special[i], true)), quote(dec_skip[i]));
        StreamDecoder sd(*tok, false);
        std::vector<std::string> got_chunks, want_chunks(chunks.begin() + line_off[i], chunks.begin() + line_off[i + 1]);
        std::vector<int32_t> got_steps, want_steps(steps.begin() + line_off[i], steps.begin() + line_off[i + 1]);
        for (size_t k = 0; k < ids_plain[i].size(); k++) {
          std::string c = sd.step(ids_plain[i][k]);
          if (!c.empty()) got_chunks.push_back(c), got_steps.push_back((int32_t)k);
        }
        st.item(got_chunks, want_chunks, line + " chunks", str(got_chunks.size(), " chunks"), str(want_chunks.size(), " chunks"));
        st.item(got_steps, want_steps, line + " chunk steps", show_ids(got_steps), show_ids(want_steps));
      }
      for (size_t i = 0; i < extra.size(); i++) {
        ex.item(tok->decode(extra_ids[i], false), extra[i], extra_names[i], quote(tok->decode(extra_ids[i], false)), quote(extra[i]));
        ex.item(tok->decode(extra_ids[i], true), extra_skip[i], extra_names[i] + " skipping special tokens", quote(tok->decode(extra_ids[i], true)), quote(extra_skip[i]));
      }
      for (Tally* t : {&enc, &de, &st, &ex}) out.push_back(t->done());
    }
  }
  const std::vector<std::string> chats = g.exists("/chat") ? g.children("/chat") : std::vector<std::string>{};
  for (const std::string& name : chats) {
    const std::string base = "/chat/" + name;
    Tally t("-", "chat template " + name, "-");
    const ChatTemplate ct = ChatTemplate::recognize(g.attr_string(base, "template"), g.attr_string(base, "bos_token"),
                                                    g.attr_string(base, "eos_token"));
    for (const std::string& cs : g.children(base)) {
      const std::string grp = base + "/" + cs;
      const auto roles = g.read_strings(grp + "/roles");
      const auto contents = g.read_strings(grp + "/contents");
      GP_CHECK(roles.size() == contents.size(), g.path(), ": ", grp, " roles and contents differ in count");
      std::vector<ChatMessage> msgs;
      for (size_t i = 0; i < roles.size(); i++) msgs.push_back({roles[i], contents[i]});
      const bool gen = g.attr_int(grp, "add_generation_prompt") != 0;
      std::string got;
      bool refused = false;
      try {
        got = ct.render(msgs, gen);
      } catch (const Error&) {
        refused = true;
      }
      if (g.attr_int(grp, "error")) {
        t.item(refused, true, cs, refused ? "refused" : "rendered", "refused");
      } else {
        const auto want = g.read_u8(grp + "/rendered").data;
        const std::string w(want.begin(), want.end());
        t.item(got, w, cs, quote(got), quote(w));
      }
    }
    out.push_back(t.done());
  }
  return out;
}

std::vector<CheckResult> verify_model(const GoldenFile& g, Backend& be, const Model& m) {
  std::vector<CheckResult> out = verify_forward(g, be, m);
  out.push_back(verify_greedy(g, be, m));
  return out;
}

namespace {
// The oracle's float16 noise of one model activation (core/tolerance.h), for
// `rel` = "<layer>/<point>" or "<point>" under a phase ("prefill",
// "decode/<s>"). A decode step's dataset is one token, 32 to a few thousand
// values: one small sample of the noise, whose maximum varies several-fold
// from step to step while a correct float16 implementation's does the same,
// independently. The noise of a point in decode is therefore its maximum over
// every stored decode step; prefill datasets hold every prompt token already.
double model_noise(const GoldenFile& g, const std::string& phase, const std::string& rel) {
  std::vector<std::string> datasets;
  if (phase.rfind("decode/", 0) == 0) {
    for (const std::string& s : g.children("/model/decode")) datasets.push_back("/model/decode/" + s + "/" + rel);
  } else {
    datasets.push_back("/model/" + phase + "/" + rel);
  }
  double noise = 0;
  for (const std::string& ds : datasets)
    if (g.exists(ds) && g.has_attr(ds, "lowp_max_abs")) noise = std::max(noise, g.attr_double(ds, "lowp_max_abs"));
  return noise;
}
}  // namespace

std::vector<CheckResult> verify_forward(const GoldenFile& g, Backend& be, const Model& m, int max_steps) {
  const ModelConfig& cfg = m.cfg;
  const std::string model = g.attr_string("/", "goldpath_model");
  const auto prompt = g.read_i32("/model/prompt_ids").data;
  const auto gen = g.read_i32("/model/generated_ids").data;
  GP_CHECK(!prompt.empty() && !gen.empty(), g.path(), ": empty prompt_ids or generated_ids");
  for (int32_t id : prompt) GP_CHECK(id >= 0 && id < cfg.vocab_size, g.path(), ": prompt id ", id, " outside the model's vocabulary");
  for (int32_t id : gen) GP_CHECK(id >= 0 && id < cfg.vocab_size, g.path(), ": generated id ", id, " outside the model's vocabulary");
  const int P = (int)prompt.size(), N = (int)gen.size();
  const int64_t V = cfg.vocab_size;
  // by how the backend stores activations: f32 (reference) or f16 (CUDA)
  const Tolerance& act_tol = storage_dtype(be.name()) == DType::F16 ? kHalfStorageVsReference : kReferenceVsGolden;

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
      fold(r, compare_to(g, ds, label + " " + point, it->second.data.data(), want, act_tol,
                         model_noise(g, phase, point)));
    }
    if (!g.exists(base + "/layers")) return;
    // The residual stream (point "out") is a running sum: an absolute error it
    // may hold at one layer is not taken out when later layers subtract from
    // it (a massive activation of 24874 at layer 15 falls to 4427 by layer 29
    // in SmolLM2, keeping the absolute float16 error it had). So its bound at
    // a layer is at least its bound at every earlier stored layer.
    double carried = 0;
    std::vector<std::string> layer_names = g.children(base + "/layers");
    std::stable_sort(layer_names.begin(), layer_names.end(), [](const std::string& a, const std::string& b) {
      return std::atoi(a.c_str()) < std::atoi(b.c_str());
    });
    for (const std::string& ls : layer_names) {
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
        const bool residual = point == "out";
        const Compared c = compare_to(g, ds, name, it->second.data.data(), want, act_tol,
                                      model_noise(g, phase, "layers/" + ls + "/" + point), residual ? carried : 0.0);
        if (residual) carried = c.tol;
        fold(r, c);
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
  const Tolerance& tol = act_tol;
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
    const int steps = max_steps < 0 ? N : std::min(N, max_steps);
    for (int s = 1; s < steps; s++) {
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
