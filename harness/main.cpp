// main.cpp: the goldpath command.
//   goldpath verify    every golden check, every available backend, one table
//   goldpath generate  token ids in, token ids out, with timings
//   goldpath run       the main job: the default model, golden prompt, every
//                      backend side by side, one table and a JSON run record
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/generate.h"
#include "core/golden.h"
#include "core/metrics.h"
#include "harness/backends.h"
#include "harness/records.h"
#include "harness/table.h"
#include "harness/verify.h"

namespace gp {
namespace {

using json = nlohmann::json;

std::string canonical(const std::string& p) {
  char buf[4096];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : p;
}

struct Golden {
  std::string path;
  std::string model;  // goldpath_model, resolved
};

// Golden files of the manifest, with the model each one names.
std::vector<Golden> golden_files(const std::string& dir) {
  std::vector<Golden> out;
  for (const std::string& f : manifest_golden_files(dir)) {
    GoldenFile g(f);
    out.push_back({f, g.attr_string("/", "goldpath_model")});
  }
  return out;
}

// The golden file of a model, or "" when it has none.
std::string golden_for_model(const std::string& model_path, const std::string& dir) {
  const std::string want = canonical(model_path);
  for (const Golden& g : golden_files(dir)) {
    std::string p;
    try {
      p = resolve_model(g.model);
    } catch (const Error&) {
      continue;
    }
    if (canonical(p) == want) return g.path;
  }
  return "";
}

std::string fmt(double v, int prec = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", prec, v);
  return buf;
}
std::string fmt_fixed(double v, int prec = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}
std::string fmt_bytes(double b) {
  const char* u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (b >= 1024 && i < 4) b /= 1024, i++;
  return fmt_fixed(b, i ? 1 : 0) + " " + u[i];
}

// ---------------------------------------------------------------- verify
struct VerifyArgs {
  std::string model, golden, backend = "all", format = "table";
  bool verbose = false;
};

int cmd_verify(const VerifyArgs& a) {
  const std::string dir = repo_root() + "/golden";
  std::vector<std::string> files;
  if (!a.golden.empty()) {
    files.push_back(a.golden);
  } else if (!a.model.empty()) {
    const std::string g = golden_for_model(resolve_model(a.model), dir);
    GP_CHECK(!g.empty(), "--model ", a.model, " has no golden file in ", dir, "/MANIFEST.sha256");
    files.push_back(g);
  } else {
    for (const Golden& g : golden_files(dir)) files.push_back(g.path);
    GP_CHECK(!files.empty(), dir, "/MANIFEST.sha256 lists no golden files");
  }
  const auto backends = select_backends(a.backend);
  std::vector<CheckResult> all;
  for (const std::string& f : files) {
    GoldenFile g(f);  // format first: a corrupt file is named as such
    check_manifest(f);
    const std::string mpath = resolve_model(g.attr_string("/", "goldpath_model"));
    auto model = load_model(mpath);
    for (const std::string& b : backends) {
      std::fprintf(stderr, "verify: %s with %s ...\n", f.c_str(), b.c_str());
      auto ops = verify_ops(g, b, backend_ops(b));
      all.insert(all.end(), ops.begin(), ops.end());
      auto be = make_backend(b, *model);
      auto mr = verify_model(g, *be, *model);
      all.insert(all.end(), mr.begin(), mr.end());
    }
  }
  int failed = 0;
  for (const auto& r : all) failed += !r.pass;
  if (a.format == "json") {
    json j = json::array();
    for (const auto& r : all)
      j.push_back({{"model", r.model}, {"check", r.check}, {"backend", r.backend}, {"worst", r.worst},
                   {"max_abs_error", r.max_abs}, {"nmse", r.nmse}, {"tolerance", r.tol},
                   {"compared", r.compared}, {"pass", r.pass}, {"detail", r.detail}});
    std::cout << j.dump(2) << "\n";
  } else {
    Table t({"model", "check", "backend", "max abs err", "NMSE", "tolerance", "result"});
    for (const auto& r : all) {
      if (!a.verbose && r.pass && r.check.rfind("op ", 0) == 0) continue;
      t.add({r.model, r.check, r.backend, fmt(r.max_abs), fmt(r.nmse), fmt(r.tol), r.pass ? "PASS" : "FAIL"});
    }
    int ops_pass = 0, ops_total = 0;
    for (const auto& r : all)
      if (r.check.rfind("op ", 0) == 0) ops_total++, ops_pass += r.pass;
    std::cout << t.render();
    if (!a.verbose) std::cout << "(" << ops_pass << " of " << ops_total << " op cases pass; --verbose lists them)\n";
    for (const auto& r : all)
      if (!r.pass) std::cout << "\nFAIL " << r.model << " " << r.check << " [" << r.backend << "]\n" << r.detail << "\n";
    std::cout << (all.size() - failed) << " passed, " << failed << " failed\n";
  }
  return failed ? 1 : 0;
}

// ---------------------------------------------------------------- generate
struct GenerateArgs {
  std::string model = "default", backend = "reference", format = "text";
  std::vector<int32_t> prompt_ids;
  int max_new_tokens = 64;
  SamplerConfig sampler;
  bool ignore_eos = false;
};

json result_json(const std::string& model, const std::string& backend, const GenerateResult& r,
                 const SamplerConfig& s) {
  return {{"model", model},
          {"backend", backend},
          {"prompt_tokens", r.prompt},
          {"generated_tokens", r.generated},
          {"stopped_at_eos", r.stopped_at_eos},
          {"sampler",
           {{"temperature", s.temperature}, {"top_k", s.top_k}, {"top_p", s.top_p}, {"min_p", s.min_p},
            {"repetition_penalty", s.repetition_penalty}, {"seed", s.seed}}},
          {"timings",
           {{"prefill_s", r.prefill_s}, {"decode_s", r.decode_s}, {"ttft_s", r.ttft_s},
            {"prefill_tokens_per_s", r.prefill_tok_s()}, {"decode_tokens_per_s", r.decode_tok_s()}}}};
}

int cmd_generate(const GenerateArgs& a) {
  GP_CHECK(!a.prompt_ids.empty(), "--prompt-ids is empty");
  validate(a.sampler);
  const auto backends = select_backends(a.backend);
  const std::string mpath = resolve_model(a.model);
  auto model = load_model(mpath);
  GenerateOptions opt;
  opt.max_new_tokens = a.max_new_tokens;
  opt.sampler = a.sampler;
  opt.stop_at_eos = !a.ignore_eos;
  json runs = json::array();
  for (const std::string& b : backends) {
    auto be = make_backend(b, *model);
    const GenerateResult r = generate(*be, model->cfg, a.prompt_ids, opt);
    if (a.format == "json") {
      runs.push_back(result_json(a.model, b, r, a.sampler));
    } else {
      std::string ids;
      for (size_t i = 0; i < r.generated.size(); i++) ids += (i ? "," : "") + std::to_string(r.generated[i]);
      std::cout << (backends.size() > 1 ? b + ": " : "") << ids << "\n";
      std::fprintf(stderr, "%s: prompt %zu tokens, prefill %.3f s (%.1f tok/s), %zu generated, decode %.1f tok/s\n",
                   b.c_str(), r.prompt.size(), r.prefill_s, r.prefill_tok_s(), r.generated.size(),
                   r.decode_tok_s());
    }
  }
  if (a.format == "json") std::cout << (a.backend == "all" ? runs : runs[0]).dump(2) << "\n";
  return 0;
}

// ---------------------------------------------------------------- run
struct RunArgs {
  std::string model = "default", backend = "all";
  std::vector<int32_t> prompt_ids;
  int max_new_tokens = 64;
  bool max_new_tokens_given = false;  // else the golden's own count
};

int cmd_run(const RunArgs& a) {
  const std::string mpath = resolve_model(a.model);
  const std::string gpath = golden_for_model(mpath, repo_root() + "/golden");
  std::unique_ptr<GoldenFile> g;
  std::vector<int32_t> prompt = a.prompt_ids;
  std::vector<int32_t> want;
  std::string golden_text;
  int golden_max_new = 0;
  if (!gpath.empty()) {
    check_manifest(gpath);
    g = std::make_unique<GoldenFile>(gpath);
    const auto gp = g->read_i32("/model/prompt_ids").data;
    if (prompt.empty()) prompt = gp;
    if (prompt == gp) {
      want = g->read_i32("/model/generated_ids").data;
      if (g->has_attr("/model", "text")) golden_text = g->attr_string("/model", "text");
      if (g->has_attr("/model", "max_new_tokens")) golden_max_new = (int)g->attr_int("/model", "max_new_tokens");
    }
  }
  int max_new = a.max_new_tokens;
  if (!want.empty() && !a.max_new_tokens_given) max_new = golden_max_new;
  // a shorter run is held to the golden's first tokens; a longer one only to the golden's
  bool golden_stopped_short = !want.empty() && (int)want.size() < golden_max_new;  // it met EOS
  if (!want.empty() && max_new < (int)want.size()) want.resize(max_new), golden_stopped_short = false;
  GP_CHECK(!prompt.empty(), "--model ", a.model, " has no golden prompt: give --prompt-ids");
  const bool vs_golden = !want.empty();
  auto model = load_model(mpath);
  auto backends = select_backends(a.backend);
  // without a golden the reference is the baseline, so it always runs first
  if (!vs_golden) {
    backends.erase(std::remove(backends.begin(), backends.end(), "reference"), backends.end());
    backends.insert(backends.begin(), "reference");
  }
  const int64_t V = model->cfg.vocab_size;

  std::printf("goldpath run: %s, %zu prompt tokens, greedy, up to %d new tokens, backends: ", a.model.c_str(),
              prompt.size(), max_new);
  for (size_t i = 0; i < backends.size(); i++) std::printf("%s%s", i ? ", " : "", backends[i].c_str());
  for (const auto& [b, why] : unavailable_backends()) std::printf(" (%s: %s)", b.c_str(), why.c_str());
  std::printf("\n");
  if (vs_golden) {
    std::printf("compared with %s (transformers)\n", gpath.c_str());
    if (!golden_text.empty()) std::printf("transformers' answer: %s\n", golden_text.c_str());
  } else {
    std::printf("no golden for this model and prompt: backends are compared with the reference\n");
  }

  // golden logits for the steps it has (full rows, else top-k values)
  auto golden_logit_error = [&](const std::vector<std::vector<float>>& logits, size_t upto, double* max_err) {
    *max_err = 0;
    if (!g) return;
    Array<float> full, topv;
    Array<int32_t> topi;
    if (g->exists("/model/logits")) full = g->read_f32("/model/logits");
    if (g->exists("/model/logits_topk_values")) {
      topv = g->read_f32("/model/logits_topk_values");
      topi = g->read_i32("/model/logits_topk_ids");
    }
    const int64_t L = full.shape.empty() ? 0 : full.shape[0];
    for (size_t s = 0; s < upto && s < logits.size(); s++) {
      if ((int64_t)s < L) {
        auto st = compare(logits[s].data(), full.data.data() + s * V, V);
        *max_err = std::max(*max_err, st.max_abs);
      } else if (!topv.data.empty() && (int64_t)s < topv.shape[0]) {
        const int64_t k = topv.shape[1];
        for (int64_t j = 0; j < k; j++)
          *max_err = std::max(*max_err, (double)std::fabs(logits[s][topi.data[s * k + j]] - topv.data[s * k + j]));
      }
    }
  };

  GenerateOptions opt;
  opt.max_new_tokens = max_new;
  opt.keep_logits = true;
  json record;
  record["kind"] = "run";
  record["model"] = {{"arg", a.model}, {"path", mpath}, {"format", model->format},
                     {"arch", arch_name(model->cfg.arch)}, {"weight_bytes", model->weight_bytes()}};
  record["prompt_tokens"] = prompt;
  record["golden"] = gpath;
  record["compared_with"] = vs_golden ? "golden" : "reference";
  record["environment"] = environment_json();
  record["backends"] = json::array();

  Table t({"backend", "tokens match", "max logit err", "top-1 agree", "prefill tok/s", "decode tok/s", "TTFT ms", "peak mem"});
  std::vector<int32_t> ref_tokens;
  std::vector<std::vector<float>> ref_logits;
  bool all_ok = true;
  for (const std::string& b : backends) {
    auto be = make_backend(b, *model);
    std::fprintf(stderr, "%s: generating ...\n", b.c_str());
    const GenerateResult r = generate(*be, model->cfg, prompt, opt);
    const bool baseline = !vs_golden && ref_tokens.empty();
    const std::vector<int32_t> target = vs_golden ? want : ref_tokens;
    size_t diff = 0;
    while (diff < r.generated.size() && diff < target.size() && r.generated[diff] == target[diff]) diff++;
    // beyond a golden that ran out of tokens (not EOS), only its length is compared
    const bool longer_ok = vs_golden && !golden_stopped_short && r.generated.size() > target.size();
    const bool match = baseline || (diff == target.size() && (r.generated.size() == target.size() || longer_ok));
    double max_err = 0;
    int agree = 0, steps = 0;
    if (vs_golden) {
      golden_logit_error(r.logits, diff + (diff < r.generated.size() ? 1 : 0), &max_err);
      for (size_t s = 0; s < r.generated.size() && s < want.size(); s++, steps++)
        agree += argmax(r.logits[s].data(), V) == want[s];
    } else if (!ref_logits.empty()) {
      for (size_t s = 0; s < r.logits.size() && s < ref_logits.size() && s <= diff; s++, steps++) {
        max_err = std::max(max_err, compare(r.logits[s].data(), ref_logits[s].data(), V).max_abs);
        agree += argmax(r.logits[s].data(), V) == argmax(ref_logits[s].data(), V);
      }
    }
    if (!vs_golden && ref_tokens.empty()) {
      ref_tokens = r.generated;
      ref_logits = r.logits;
    }
    all_ok = all_ok && match;
    const std::string match_s = baseline ? "(baseline)" : match ? "yes" : "no, at " + std::to_string(diff);
    t.add({b, match_s, steps ? fmt(max_err) : "-", steps ? fmt_fixed(100.0 * agree / steps) + "%" : "-",
           fmt_fixed(r.prefill_tok_s()), fmt_fixed(r.decode_tok_s()), fmt_fixed(1000 * r.ttft_s), fmt_bytes(be->memory_bytes())});
    std::string ids;
    for (size_t i = 0; i < r.generated.size(); i++) ids += (i ? "," : "") + std::to_string(r.generated[i]);
    std::printf("%s generated %zu tokens: %s\n", b.c_str(), r.generated.size(), ids.c_str());
    json jb = result_json(a.model, b, r, opt.sampler);
    jb["baseline"] = baseline;
    jb["tokens_match"] = baseline ? json(nullptr) : json(match);
    jb["first_difference"] = match ? json(nullptr) : json(diff);
    jb["max_logit_error"] = max_err;
    jb["top1_agreement"] = steps ? json((double)agree / steps) : json(nullptr);
    jb["peak_memory_bytes"] = be->memory_bytes();
    record["backends"].push_back(jb);
  }
  std::printf("\n%s", t.render().c_str());
  record["pass"] = all_ok;
  const std::string rec = new_record_path("run");
  write_file_atomic(rec, record.dump(2) + "\n");
  std::printf("run record: %s\n", rec.c_str());
  if (!all_ok) std::fprintf(stderr, "goldpath: a backend disagrees with the %s\n", vs_golden ? "golden" : "reference");
  return all_ok ? 0 : 1;
}

void add_sampler_options(CLI::App* c, SamplerConfig& s) {
  c->add_option("--temperature", s.temperature, "0 = greedy")->capture_default_str();
  c->add_option("--top-k", s.top_k, "keep the k most likely (0 = off)")->capture_default_str();
  c->add_option("--top-p", s.top_p, "nucleus: smallest set with this probability (1 = off)")->capture_default_str();
  c->add_option("--min-p", s.min_p, "drop tokens below min_p * p_max (0 = off)")->capture_default_str();
  c->add_option("--repetition-penalty", s.repetition_penalty, "transformers' rule (1 = off)")->capture_default_str();
  c->add_option("--seed", s.seed, "RNG seed (SplitMix64)")->capture_default_str();
}

int main_impl(int argc, char** argv) {
  CLI::App app{"goldpath: the transformer generation path as a CPU reference and optimized CUDA, held to transformers' goldens"};
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("goldpath: error: ") + e.what() + "\n";
  });

  VerifyArgs va;
  auto* v = app.add_subcommand("verify", "run every golden check with every available backend");
  v->add_option("--model", va.model, "check only this model's golden (a GGUF, a HF folder, or 'default')");
  v->add_option("--golden", va.golden, "check this golden file");
  v->add_option("--backend", va.backend, "backend name or 'all'")->capture_default_str();
  v->add_option("--format", va.format)->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  v->add_flag("--verbose", va.verbose, "list every op case");

  GenerateArgs ga;
  auto* gcmd = app.add_subcommand("generate", "generate token ids from prompt ids");
  gcmd->add_option("--model", ga.model, "a GGUF file, a Hugging Face folder, or 'default'")->capture_default_str();
  gcmd->add_option("--prompt-ids", ga.prompt_ids, "comma-separated token ids")->delimiter(',')->required();
  gcmd->add_option("--max-new-tokens", ga.max_new_tokens)->check(CLI::NonNegativeNumber)->capture_default_str();
  gcmd->add_option("--backend", ga.backend, "backend name or 'all'")->capture_default_str();
  gcmd->add_option("--format", ga.format)->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  gcmd->add_flag("--ignore-eos", ga.ignore_eos, "do not stop at the model's EOS ids");
  add_sampler_options(gcmd, ga.sampler);

  RunArgs ra;
  auto* r = app.add_subcommand("run", "the main job: every backend side by side on the default model, held to its golden");
  r->add_option("--model", ra.model)->capture_default_str();
  r->add_option("--prompt-ids", ra.prompt_ids, "comma-separated token ids (default: the golden's prompt)")->delimiter(',');
  r->add_option("--max-new-tokens", ra.max_new_tokens, "default: the golden's own count, else 64")->check(CLI::NonNegativeNumber);
  r->add_option("--backend", ra.backend, "backend name or 'all'")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  ra.max_new_tokens_given = r->count("--max-new-tokens") > 0;
  if (v->parsed()) return cmd_verify(va);
  if (gcmd->parsed()) return cmd_generate(ga);
  if (r->parsed()) return cmd_run(ra);
  return 2;
}

}  // namespace
}  // namespace gp

int main(int argc, char** argv) {
  try {
    return gp::main_impl(argc, argv);
  } catch (const gp::Error& e) {
    std::fprintf(stderr, "goldpath: error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "goldpath: error: out of host memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "goldpath: error: %s\n", e.what());
  }
  return 1;
}
