// main.cpp: the goldpath command.
//   goldpath verify    every golden check, every available backend, one table
//   goldpath generate  token ids in, token ids out, with timings
//   goldpath run       the main job: the default model, golden prompt, every
//                      backend side by side, one table and a JSON run record
//   goldpath bench     speed and memory of every backend (harness/bench.h)
//   goldpath compare   regression gate between bench records (harness/compare.h)
//   goldpath report    Markdown report with plots from bench records (harness/report.h)
// Global: --max-host-memory (core/memory.h). SIGINT/SIGTERM/SIGHUP remove a
// run record being written and exit with 128 + the signal.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/generate.h"
#include "core/chat.h"
#include "core/golden.h"
#include "core/memory.h"
#include "core/tokenizer.h"
#include "core/metrics.h"
#include "harness/backends.h"
#include "harness/bench.h"
#include "harness/cli_checks.h"
#include "harness/compare.h"
#include "harness/info.h"
#include "harness/ops_cmd.h"
#include "harness/perplexity.h"
#include "harness/report.h"
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
    check_manifest(f);  // before HDF5 parses it: libhdf5 is not hardened against hostile files
    GoldenFile g(f);
    if (!g.exists("/model")) continue;  // tokenizer and chat goldens name no model
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
  std::string model, golden, backend = "default", format = "table";
  std::string junit;  // --junit FILE: JUnit XML beside any --format
  std::vector<std::string> require;  // --require-backend: fail unless each runs ("all": every one goldpath knows)
  bool verbose = false;
};

int cmd_verify(const VerifyArgs& a) {
  if (!a.junit.empty()) {  // before any check runs: a report that cannot be written fails now
    const std::filesystem::path parent = std::filesystem::absolute(a.junit).parent_path();
    GP_CHECK(std::filesystem::is_directory(parent), "--junit ", a.junit, ": folder ", parent.string(), " does not exist");
    GP_CHECK(!std::filesystem::is_directory(a.junit), "--junit ", a.junit, " is a folder");
  }
  const std::string dir = repo_root() + "/golden";
  std::vector<std::string> files;
  if (!a.golden.empty()) {
    files.push_back(a.golden);
  } else if (!a.model.empty()) {
    const std::string g = golden_for_model(resolve_model(a.model), dir);
    GP_CHECK(!g.empty(), "--model ", a.model, " has no golden file in ", dir, "/MANIFEST.sha256");
    files.push_back(g);
  } else {
    files = manifest_golden_files(dir);  // model goldens and the tokenizer goldens
    GP_CHECK(!files.empty(), dir, "/MANIFEST.sha256 lists no golden files");
  }
  auto backends = select_backends(a.backend);
  // backends that must run: a GPU CI box with a broken driver fails here, not green
  const std::map<std::string, std::string> unavailable = unavailable_backends();
  for (const std::string& req : a.require) {
    std::vector<std::string> names;
    if (req == "all") {
      for (const std::string& b : available_backends()) names.push_back(b);
      for (const auto& [b, why] : unavailable) names.push_back(b);
    } else {
      names.push_back(req);
    }
    for (const std::string& b : names) {
      auto it = unavailable.find(b);
      GP_CHECK(it == unavailable.end(), "--require-backend ", req, ": backend ", b, " is not available: ", it->second);
      select_backends(b);  // an unknown name fails here, listing the known ones
      if (std::find(backends.begin(), backends.end(), b) == backends.end()) backends.push_back(b);
    }
  }
  // every backend that will not run, with why
  std::map<std::string, std::string> not_run = unavailable;
  for (const std::string& b : available_backends())
    if (std::find(backends.begin(), backends.end(), b) == backends.end())
      not_run[b] = "not selected by --backend " + a.backend + " (--backend all or --backend " + b + " runs it)";
  std::map<std::string, std::string> described;  // what each backend said of itself after its checks
  std::vector<CheckResult> all;
  for (const std::string& f : files) {
    // the manifest first: HDF5 only ever parses files whose sha256 is listed
    // (libhdf5 1.10 crashes on some corrupt files; see tests/fuzz/golden_fuzz.cpp)
    check_manifest(f);
    GoldenFile g(f);
    if (g.exists("/tokenizers") || g.exists("/chat")) {
      std::fprintf(stderr, "verify: %s (tokenizers, chat templates) ...\n", f.c_str());
      auto tr = verify_tokenizers(g);
      all.insert(all.end(), tr.begin(), tr.end());
    }
    if (!g.exists("/model")) continue;
    const std::string mpath = resolve_model(g.attr_string("/", "goldpath_model"));
    auto model = load_model(mpath);
    for (const std::string& b : backends) {
      std::fprintf(stderr, "verify: %s with %s ...\n", f.c_str(), b.c_str());
      auto ops = verify_ops(g, b, backend_ops(b));
      all.insert(all.end(), ops.begin(), ops.end());
      auto be = make_backend(b, *model);
      auto mr = verify_model(g, *be, *model);
      all.insert(all.end(), mr.begin(), mr.end());
      // one with a run-time note (a vendor library refusing a shape) is kept over one without
      const std::string d = be->description();
      if (!described.count(b) || d != backend_description(b)) described[b] = d;
    }
  }
  int failed = 0, skipped = 0;
  for (const auto& r : all) failed += !r.pass, skipped += r.skipped;
  if (!a.junit.empty()) write_file_atomic(a.junit, verify_junit_xml(all, not_run));
  if (a.format == "junit") {
    std::cout << verify_junit_xml(all, not_run);
    for (const auto& [b, why] : not_run) std::fprintf(stderr, "verify: not run: backend %s: %s\n", b.c_str(), why.c_str());
  } else if (a.format == "json") {
    json j = json::array();
    for (const auto& r : all)
      j.push_back({{"model", r.model}, {"check", r.check}, {"backend", r.backend}, {"worst", r.worst},
                   {"max_abs_error", r.max_abs}, {"nmse", r.nmse}, {"tolerance", r.tol},
                   {"compared", r.compared}, {"pass", r.pass}, {"skipped", r.skipped}, {"detail", r.detail}});
    std::cout << j.dump(2) << "\n";
    for (const auto& [b, why] : not_run) std::fprintf(stderr, "verify: not run: backend %s: %s\n", b.c_str(), why.c_str());
  } else {
    Table t({"model", "check", "backend", "max abs err", "NMSE", "tolerance", "result"});
    for (const auto& r : all) {
      if (!a.verbose && r.pass && r.check.rfind("op ", 0) == 0) continue;
      t.add({r.model, r.check, r.backend, r.skipped ? "-" : fmt(r.max_abs), r.skipped ? "-" : fmt(r.nmse),
             r.skipped ? "-" : fmt(r.tol), r.skipped ? "SKIP" : r.pass ? "PASS" : "FAIL"});
    }
    int ops_pass = 0, ops_total = 0, ops_skipped = 0;
    // why op cases were skipped: "[backend] reason" -> cases
    std::map<std::string, int> skip_reasons;
    for (const auto& r : all) {
      if (r.check.rfind("op ", 0) == 0) ops_total++, ops_pass += r.pass && !r.skipped, ops_skipped += r.skipped;
      if (r.skipped) {
        const size_t colon = r.detail.find(": ");  // after "op/case: "
        skip_reasons["[" + r.backend + "] " + (colon == std::string::npos ? r.detail : r.detail.substr(colon + 2))]++;
      }
    }
    std::cout << t.render();
    if (!a.verbose)
      std::cout << "(" << ops_pass << " of " << ops_total << " op cases pass"
                << (ops_skipped ? ", " + std::to_string(ops_skipped) + " skipped" : std::string())
                << "; --verbose lists them)\n";
    for (const auto& [why, n] : skip_reasons) std::cout << "SKIP " << n << " op case(s) " << why << "\n";
    for (const auto& r : all)
      if (!r.pass) std::cout << "\nFAIL " << r.model << " " << r.check << " [" << r.backend << "]\n" << r.detail << "\n";
    for (const std::string& b : backends)
      std::cout << "backend " << (described.count(b) ? described[b] : backend_description(b)) << "\n";
    for (const auto& [b, why] : not_run) std::cout << "not run: backend " << b << ": " << why << "\n";
    std::cout << (all.size() - failed - skipped) << " passed, " << skipped << " skipped, " << failed << " failed\n";
  }
  return failed ? 1 : 0;
}

// ---------------------------------------------------------------- text
// Reads a prompt file; invalid UTF-8 is caught by the tokenizer.
std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GP_CHECK(in.good(), path, ": cannot open");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) check_host_alloc((int64_t)st.st_size, path);
  std::stringstream ss;
  ss << in.rdbuf();
  GP_CHECK(!in.bad(), path, ": read error");
  return ss.str();
}

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); i++) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

// How a prompt becomes ids: raw ids, plain text, or one chat message.
struct PromptSpec {
  std::vector<int32_t> ids;
  std::string text;
  bool chat = false;
  std::string system;
};

struct Prompt {
  std::vector<int32_t> ids;
  std::string rendered;            // the text that was encoded ("" for raw ids)
  std::vector<int32_t> stop_ids;   // model EOS, tokenizer EOS, end of turn
};

Prompt make_prompt(const PromptSpec& p, const Model& m, const Tokenizer* tok) {
  Prompt out;
  out.stop_ids = m.cfg.eos_ids;
  if (tok)
    for (int32_t e : tok->eos_ids()) out.stop_ids.push_back(e);
  if (!p.ids.empty()) {
    out.ids = p.ids;
    return out;
  }
  GP_CHECK(tok, "the model has no tokenizer: give --prompt-ids");
  if (p.chat) {
    const ChatTemplate t = ChatTemplate::recognize(tok->chat_template(), tok->bos_token(), tok->eos_token());
    std::vector<ChatMessage> msgs;
    if (!p.system.empty()) msgs.push_back({"system", p.system});
    msgs.push_back({"user", p.text});
    out.rendered = t.render(msgs, true);
    out.ids = tok->encode(out.rendered, false);  // as apply_chat_template(tokenize=True)
    for (const std::string& eot : t.end_of_turn()) {
      const int32_t id = tok->token_id(eot);
      if (id >= 0) out.stop_ids.push_back(id);
    }
  } else {
    GP_CHECK(p.system.empty(), "--system needs --chat");
    out.rendered = p.text;
    out.ids = tok->encode(p.text, true);
  }
  GP_CHECK(!out.ids.empty(), "the prompt encodes to no tokens");
  return out;
}

// ---------------------------------------------------------------- tokenize
struct TokenizeArgs {
  std::string model = "default", text, file, format = "text";
  bool text_given = false, no_add_special = false;
};

int cmd_tokenize(const TokenizeArgs& a) {
  GP_CHECK(a.text_given != !a.file.empty(), "give exactly one of --text and --file");
  const std::string text = a.text_given ? a.text : read_text_file(a.file);
  auto tok = Tokenizer::from_path(resolve_model(a.model));  // the tokenizer alone: no weights
  const auto ids = tok->encode(text, !a.no_add_special);
  if (a.format == "json") {
    json pieces = json::array();
    for (int32_t id : ids) pieces.push_back(tok->token_text(id));
    std::cout << json{{"ids", ids}, {"tokens", pieces}}.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::cout << join_ids(ids) << "\n";
  }
  return 0;
}

struct DetokenizeArgs {
  std::string model = "default";
  std::vector<int32_t> ids;
  bool skip_special = false;
};

int cmd_detokenize(const DetokenizeArgs& a) {
  auto tok = Tokenizer::from_path(resolve_model(a.model));  // the tokenizer alone: no weights
  std::cout << tok->decode(a.ids, a.skip_special) << "\n";
  return 0;
}

// ---------------------------------------------------------------- generate
struct GenerateArgs {
  std::string model = "default", backend = "reference", format = "text";
  PromptSpec prompt;
  bool prompt_given = false;
  int max_new_tokens = 64;
  SamplerConfig sampler;
  bool ignore_eos = false;
  bool seed_drawn = false;  // --seed -1
  std::string vram_budget;
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
  GP_CHECK(a.prompt_given != !a.prompt.ids.empty(), "give exactly one of --prompt and --prompt-ids");
  GP_CHECK(!a.prompt.chat || a.prompt_given, "--chat needs --prompt");
  validate(a.sampler);
  const auto backends = select_backends(a.backend);
  const std::string mpath = resolve_model(a.model);
  auto model = load_model(mpath);
  std::unique_ptr<Tokenizer> tok;
  if (a.prompt_given) {
    tok = Tokenizer::for_model(*model);
  } else if (model->format != "synthetic") {  // ids in; text out where the model has a tokenizer
    try {
      tok = Tokenizer::for_model(*model);
    } catch (const Error& e) {
      std::fprintf(stderr, "goldpath: generated ids, not text: %s\n", e.what());
    }
  }
  if (a.seed_drawn) std::fprintf(stderr, "goldpath: --seed -1: drew seed %llu\n", (unsigned long long)a.sampler.seed);
  // stop ids as before for raw ids (the model's own), the tokenizer's too for text
  const Prompt prompt = make_prompt(a.prompt, *model, a.prompt_given ? tok.get() : nullptr);
  enforce_vram_budget(a.vram_budget, *model, backends, (int64_t)prompt.ids.size() + a.max_new_tokens, (int64_t)prompt.ids.size());
  ModelConfig cfg = model->cfg;
  cfg.eos_ids = prompt.stop_ids;
  GenerateOptions opt;
  opt.max_new_tokens = a.max_new_tokens;
  opt.sampler = a.sampler;
  opt.stop_at_eos = !a.ignore_eos;
  json runs = json::array();
  for (const std::string& b : backends) {
    auto be = make_backend(b, *model);
    std::unique_ptr<StreamDecoder> stream;
    const bool stream_text = tok && a.format == "text";
    if (stream_text) {
      stream = std::make_unique<StreamDecoder>(*tok, true);
      if (backends.size() > 1) std::printf("[%s] ", b.c_str());
    }
    const GenerateResult r = generate(*be, cfg, prompt.ids, opt, [&](int32_t id) {
      if (!stream_text) return;
      std::fputs(stream->step(id).c_str(), stdout);
      std::fflush(stdout);
    });
    if (a.format == "json") {
      json j = result_json(a.model, b, r, a.sampler);
      if (tok) j["text"] = tok->decode(r.generated, true);
      runs.push_back(j);
    } else {
      if (stream_text) std::printf("\n"), std::fflush(stdout);
      else std::cout << (backends.size() > 1 ? b + ": " : "") << join_ids(r.generated) << "\n";
      std::fprintf(stderr, "%s: prompt %zu tokens, prefill %.3f s (%.1f tok/s), %zu generated, decode %.1f tok/s\n",
                   b.c_str(), r.prompt.size(), r.prefill_s, r.prefill_tok_s(), r.generated.size(),
                   r.decode_tok_s());
    }
  }
  if (a.format == "json")
    std::cout << (a.backend == "all" || a.backend == "default" ? runs : runs[0]).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return 0;
}

// ---------------------------------------------------------------- run
constexpr const char* kDefaultChatMessage = "Create a funny joke about chickens.";

struct RunArgs {
  std::string model = "default", backend = "default";
  std::vector<int32_t> prompt_ids;
  std::string prompt;
  bool prompt_given = false;
  int max_new_tokens = 64;
  bool max_new_tokens_given = false;  // else the golden's own count
  std::string vram_budget;
};

int cmd_run(const RunArgs& a) {
  GP_CHECK(!(a.prompt_given && !a.prompt_ids.empty()), "give at most one of --prompt and --prompt-ids");
  const std::string mpath = resolve_model(a.model);
  auto model = load_model(mpath);
  std::unique_ptr<Tokenizer> tok;
  std::string tok_error;
  try {
    tok = Tokenizer::for_model(*model);
  } catch (const Error& e) {
    tok_error = e.what();
  }
  const std::string gpath = golden_for_model(mpath, repo_root() + "/golden");
  std::unique_ptr<GoldenFile> g;
  if (!gpath.empty()) {
    check_manifest(gpath);
    g = std::make_unique<GoldenFile>(gpath);
  }

  // the prompt: given ids; a given message; the golden's own message; the default message
  PromptSpec spec;
  spec.chat = true;
  if (!a.prompt_ids.empty()) {
    spec.ids = a.prompt_ids;
  } else if (a.prompt_given) {
    spec.text = a.prompt;
  } else if (g && g->has_attr("/", "prompt") && !g->attr_string("/", "prompt").empty()) {
    spec.text = g->attr_string("/", "prompt");
  } else if (g) {
    spec.ids = g->read_i32("/model/prompt_ids").data;
  } else {
    spec.text = kDefaultChatMessage;
  }
  if (spec.ids.empty() && !tok) fail(tok_error, " (give --prompt-ids)");
  const Prompt prompt = make_prompt(spec, *model, tok.get());

  std::vector<int32_t> want;
  std::string golden_text;
  int golden_max_new = 0;
  std::string prompt_note;
  if (g) {
    const auto gp = g->read_i32("/model/prompt_ids").data;
    if (prompt.ids == gp) {
      want = g->read_i32("/model/generated_ids").data;
      if (g->has_attr("/model", "text")) golden_text = g->attr_string("/model", "text");
      if (g->has_attr("/model", "max_new_tokens")) golden_max_new = (int)g->attr_int("/model", "max_new_tokens");
    } else if (spec.ids.empty() && spec.text == (g->has_attr("/", "prompt") ? g->attr_string("/", "prompt") : "")) {
      // the golden's own message did not give the golden's ids: the tokenizer or template is wrong
      size_t i = 0;
      while (i < gp.size() && i < prompt.ids.size() && gp[i] == prompt.ids[i]) i++;
      prompt_note = str("the golden's prompt encodes to other ids than transformers' (first difference at ", i, ")");
    }
  }
  ModelConfig cfg = model->cfg;
  cfg.eos_ids = prompt.stop_ids;
  const bool vs_golden = !want.empty();
  int max_new = a.max_new_tokens;
  if (vs_golden && !a.max_new_tokens_given) max_new = golden_max_new;
  // a shorter run is held to the golden's first tokens; a longer one only to the golden's
  bool golden_stopped_short = vs_golden && (int)want.size() < golden_max_new;  // it met EOS
  if (vs_golden && max_new < (int)want.size()) want.resize(max_new), golden_stopped_short = false;

  auto backends = select_backends(a.backend);
  // without a golden the reference is the baseline, so it always runs first
  if (!vs_golden) {
    backends.erase(std::remove(backends.begin(), backends.end(), "reference"), backends.end());
    backends.insert(backends.begin(), "reference");
  }
  enforce_vram_budget(a.vram_budget, *model, backends, (int64_t)prompt.ids.size() + max_new, (int64_t)prompt.ids.size());
  const int64_t V = model->cfg.vocab_size;
  // before anything is printed: a prompt too long for the context is one line
  GP_CHECK((int64_t)prompt.ids.size() + max_new <= model->cfg.max_seq_len, "the prompt (", prompt.ids.size(),
           " tokens) + --max-new-tokens (", max_new, ") exceeds the model's context of ", model->cfg.max_seq_len,
           " tokens");

  std::printf("goldpath run: %s, %zu prompt tokens, greedy, up to %d new tokens, backends: ", a.model.c_str(),
              prompt.ids.size(), max_new);
  for (size_t i = 0; i < backends.size(); i++) std::printf("%s%s", i ? ", " : "", backends[i].c_str());
  for (const auto& [b, why] : unavailable_backends()) std::printf(" (%s: %s)", b.c_str(), why.c_str());
  std::printf("\n");
  for (const std::string& b : backends) std::printf("  %s\n", backend_description(b).c_str());
  if (!prompt.rendered.empty()) std::printf("prompt: %s\n", spec.text.c_str());
  if (vs_golden) std::printf("compared with %s (transformers)\n", gpath.c_str());
  else std::printf("no golden for this model and prompt: backends are compared with the reference\n");
  if (!prompt_note.empty()) std::printf("%s\n", prompt_note.c_str());

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
  record["format_version"] = 1;
  record["created_utc"] = iso_utc_now();
  record["model"] = {{"arg", a.model}, {"path", mpath}, {"format", model->format},
                     {"arch", arch_name(model->cfg.arch)}, {"weight_bytes", model->weight_bytes()}};
  record["prompt"] = spec.text;
  record["prompt_tokens"] = prompt.ids;
  record["golden"] = gpath;
  record["compared_with"] = vs_golden ? "golden" : "reference";
  record["environment"] = environment_json();
  record["backends"] = json::array();

  Table t({"backend", "tokens match", "max logit err", "top-1 agree", "prefill tok/s", "decode tok/s", "TTFT ms", "peak mem"});
  std::vector<int32_t> ref_tokens;
  std::vector<std::vector<float>> ref_logits;
  bool all_ok = prompt_note.empty();
  std::vector<std::string> run_notes;
  for (const std::string& b : backends) {
    auto be = make_backend(b, *model);
    std::unique_ptr<StreamDecoder> stream;
    if (tok) stream = std::make_unique<StreamDecoder>(*tok, true);
    std::printf("\n[%s] ", b.c_str());
    std::fflush(stdout);
    const GenerateResult r = generate(*be, cfg, prompt.ids, opt, [&](int32_t id) {
      if (stream) std::fputs(stream->step(id).c_str(), stdout);
      else std::printf("%d ", id);
      std::fflush(stdout);
    });
    std::printf("\n");
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
    if (baseline) {
      ref_tokens = r.generated;
      ref_logits = r.logits;
    }
    all_ok = all_ok && match;
    const std::string match_s = baseline ? "(baseline)" : match ? "yes" : "no, at " + std::to_string(diff);
    // a simulated device's times are the simulator's, never a GPU's speed
    const bool simulated = is_simulated(b);
    auto timed = [&](double v) { return fmt_fixed(v) + (simulated ? " (simulated)" : ""); };
    t.add({b, match_s, steps ? fmt(max_err) : "-", steps ? fmt_fixed(100.0 * agree / steps) + "%" : "-",
           timed(r.prefill_tok_s()), timed(r.decode_tok_s()), timed(1000 * r.ttft_s), fmt_bytes(be->memory_bytes())});
    json jb = result_json(a.model, b, r, opt.sampler);
    if (tok) jb["text"] = tok->decode(r.generated, true);
    jb["baseline"] = baseline;
    jb["tokens_match"] = baseline ? json(nullptr) : json(match);
    jb["first_difference"] = match ? json(nullptr) : json(diff);
    jb["max_logit_error"] = max_err;
    jb["top1_agreement"] = steps ? json((double)agree / steps) : json(nullptr);
    jb["peak_memory_bytes"] = be->memory_bytes();
    jb["simulated"] = simulated;
    const std::string described = be->description();
    jb["description"] = described;
    record["backends"].push_back(jb);
    // what the backend decided while running (a vendor library refusing a shape, say)
    if (described != backend_description(b)) run_notes.push_back(described);
  }
  if (vs_golden && !golden_text.empty()) std::printf("\ntransformers: %s\n", golden_text.c_str());
  std::printf("\n%s", t.render().c_str());
  for (const std::string& n : run_notes) std::printf("  %s\n", n.c_str());
  record["pass"] = all_ok;
  const std::string rec = new_record_path("run");
  write_file_atomic(rec, record.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  std::printf("run record: %s\n", rec.c_str());
  if (!all_ok) std::fprintf(stderr, "goldpath: a backend disagrees with the %s\n", vs_golden ? "golden" : "reference");
  return all_ok ? 0 : 1;
}

void add_sampler_options(CLI::App* c, SamplerConfig& s, bool& seed_drawn) {
  c->add_option("--temperature", s.temperature, "0 = greedy")->capture_default_str();
  c->add_option("--top-k", s.top_k, "keep the k most likely (0 = off)")->capture_default_str();
  c->add_option("--top-p", s.top_p, "nucleus: smallest set with this probability (1 = off)")->capture_default_str();
  c->add_option("--min-p", s.min_p, "drop tokens below min_p * p_max (0 = off)")->capture_default_str();
  c->add_option("--repetition-penalty", s.repetition_penalty, "transformers' rule (1 = off)")->capture_default_str();
  c->add_option_function<std::string>(
       "--seed,-s",
       [&s, &seed_drawn](const std::string& v) {
         if (v == "-1") {  // llama.cpp's "random": drawn here, recorded with the results
           std::random_device rd;
           s.seed = ((uint64_t)rd() << 32) ^ rd();
           seed_drawn = true;
           return;
         }
         char* end = nullptr;
         errno = 0;
         const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
         GP_CHECK(!v.empty() && v[0] != '-' && *end == 0 && errno != ERANGE, "--seed ", v,
                  " is not a seed (0 to 2^64-1, or -1 for a random one)");
         s.seed = x;
       },
       "RNG seed (SplitMix64); -1: a random seed, printed and recorded (default 0)");
}

// ---------------------------------------------------------------- signals
// Async-signal-safe: unlink the record being written (if any), then _exit.
extern "C" void on_terminate(int sig) {
  if (const char* tmp = pending_temp_file()) ::unlink(tmp);
  ::_exit(128 + sig);
}

void install_signal_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;  // nohup, background jobs
    struct sigaction sa = {};
    sa.sa_handler = on_terminate;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

int main_impl(int argc, char** argv) {
  CLI::App app{"goldpath: the transformer generation path as a CPU reference and optimized CUDA, held to transformers' goldens",
               "goldpath"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand
  std::string max_host_memory;
  app.add_option("--max-host-memory", max_host_memory,
                 std::string("cap on host memory, e.g. 8G or 512M (default: $") + kHostMemoryEnv +
                     ", else 90% of physical RAM, " + human_bytes(default_host_memory_limit()) + " here)");

  VerifyArgs va;
  auto* v = app.add_subcommand("verify", "run every golden check with every available backend");
  v->add_option("--model,-m", va.model, "check only this model's golden (a GGUF, a HF folder, or 'default')");
  v->add_option("--golden", va.golden, "check this golden file");
  v->add_option("--backend", va.backend, "backend name, 'default' (reference and the GPU backends) or 'all' (also cuda-sim, the simulated device)")->capture_default_str();
  v->add_option("--format", va.format, "table, json, or junit (JUnit XML for CI test reports)")
      ->check(CLI::IsMember({"table", "json", "junit"}))
      ->capture_default_str();
  v->add_option("--junit", va.junit, "also write JUnit XML to this file (written whole, or not at all)");
  v->add_flag("--verbose", va.verbose, "list every op case");
  v->add_option("--require-backend", va.require,
                "fail unless this backend is available and runs (repeatable; 'all': every backend goldpath knows)");

  GenerateArgs ga;
  auto* gcmd = app.add_subcommand("generate", "generate from token ids or text, streaming the text");
  gcmd->add_option("--model,-m", ga.model, "a GGUF file, a Hugging Face folder, or 'default'")->capture_default_str();
  gcmd->add_option_function<std::string>(
      "--prompt-ids", [&ga](const std::string& v) { ga.prompt.ids = parse_id_list(v, "--prompt-ids"); },
      "comma-separated token ids");
  auto* gprompt = gcmd->add_option("--prompt,-p", ga.prompt.text, "prompt text");
  gcmd->add_option_function<std::string>(
          "--prompt-file,-f", [&ga](const std::string& f) { ga.prompt.text = read_text_file(f); }, "prompt text from a file")
      ->excludes(gprompt);
  gcmd->add_flag("--chat", ga.prompt.chat, "apply the model's chat template to --prompt as one user message");
  gcmd->add_option("--system", ga.prompt.system, "system message for --chat");
  gcmd->add_option("--max-new-tokens,-n", ga.max_new_tokens)->check(at_least(0, true))->capture_default_str();
  gcmd->add_option("--backend", ga.backend, "backend name, 'default' (reference and the GPU backends) or 'all' (also cuda-sim, the simulated device)")->capture_default_str();
  gcmd->add_option("--format", ga.format)->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  gcmd->add_flag("--ignore-eos", ga.ignore_eos, "do not stop at the model's EOS or end-of-turn ids");
  add_sampler_options(gcmd, ga.sampler, ga.seed_drawn);
  add_vram_budget_option(gcmd, ga.vram_budget);

  RunArgs ra;
  auto* r = app.add_subcommand("run", "the main job: every backend side by side on the default model, held to its golden");
  r->add_option("--model,-m", ra.model)->capture_default_str();
  auto* rprompt = r->add_option("--prompt,-p", ra.prompt, "one chat message (default: the golden's, else \"Create a funny joke about chickens.\")");
  r->add_option_function<std::string>(
       "--prompt-file,-f", [&ra](const std::string& f) { ra.prompt = read_text_file(f); }, "the chat message from a file")
      ->excludes(rprompt);
  r->add_option_function<std::string>(
      "--prompt-ids", [&ra](const std::string& v) { ra.prompt_ids = parse_id_list(v, "--prompt-ids"); },
      "comma-separated token ids instead of a message");
  r->add_option("--max-new-tokens,-n", ra.max_new_tokens,
                "at least 1, since run compares the generated tokens (default: the golden's own count, else 64)")
      ->check(at_least(1, true));
  r->add_option("--backend", ra.backend, "backend name, 'default' (reference and the GPU backends) or 'all' (also cuda-sim, the simulated device)")->capture_default_str();
  add_vram_budget_option(r, ra.vram_budget);

  BenchArgs ba;
  auto* bcmd = add_bench_command(app, ba);
  CompareArgs ca;
  auto* ccmd = add_compare_command(app, ca);
  ReportArgs rpa;
  auto* rpcmd = add_report_command(app, rpa);
  PerplexityArgs ppa;
  auto* ppcmd = add_perplexity_command(app, ppa);
  InfoArgs ia;
  auto* icmd = add_info_command(app, ia);
  OpsArgs oa;
  auto* ocmd = add_ops_command(app, oa);

  TokenizeArgs ta;
  auto* tcmd = app.add_subcommand("tokenize", "text to token ids");
  tcmd->add_option("--model,-m", ta.model)->capture_default_str();
  tcmd->add_option("--text", ta.text, "the text");
  tcmd->add_option("--file", ta.file, "a UTF-8 text file");
  tcmd->add_flag("--no-add-special", ta.no_add_special, "do not add BOS/EOS");
  tcmd->add_option("--format", ta.format)->check(CLI::IsMember({"text", "json"}))->capture_default_str();

  DetokenizeArgs da;
  auto* dcmd = app.add_subcommand("detokenize", "token ids to text");
  dcmd->add_option("--model,-m", da.model)->capture_default_str();
  dcmd->add_option_function<std::string>(
         "--ids", [&da](const std::string& v) { da.ids = parse_id_list(v, "--ids"); }, "comma-separated token ids")
      ->required();
  dcmd->add_flag("--skip-special", da.skip_special, "drop special tokens");

  app.set_version_flag("--version", [] {
    return std::string("goldpath ") + GOLDPATH_VERSION + " (commit " + goldpath_commit() + ", " + GOLDPATH_BUILD_TYPE +
           " build)";
  });
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) commands.push_back(sub->get_name());
  std::string listed;
  for (const std::string& c : commands) listed += (listed.empty() ? "" : ", ") + c;
  // the first word that is not an option names the command
  int first = 1;
  while (first < argc && argv[first][0] == '-') first += std::string(argv[first]) == "--max-host-memory" ? 2 : 1;
  if (first == argc) {  // `goldpath --list-backends`, as `goldpath info --list-backends`
    for (int i = 1; i < argc; i++)
      if (std::string(argv[i]) == "--list-backends") return print_backends("table");
  }
  if (first < argc) {
    const std::string word = argv[first];
    if (word == "help") {  // `goldpath help [COMMAND]`, as git and cargo users type it
      const std::string of = first + 1 < argc ? argv[first + 1] : "";
      if (of.empty()) {
        std::cout << app.help();
        return 0;
      }
      if (std::find(commands.begin(), commands.end(), of) != commands.end()) {
        std::vector<const char*> args = {argv[0], of.c_str(), "--help"};  // as `goldpath COMMAND --help`
        try {
          app.parse((int)args.size(), const_cast<char**>(args.data()));
        } catch (const CLI::ParseError& e) {
          return app.exit(e);
        }
        return 0;
      }
      std::fprintf(stderr, "goldpath: error: '%s' is not a goldpath command (commands: %s)\n", of.c_str(), listed.c_str());
      return kUsageError;
    }
    if (std::find(commands.begin(), commands.end(), word) == commands.end()) {
      std::fprintf(stderr, "goldpath: error: '%s' is not a goldpath command (commands: %s; goldpath --help)\n",
                   word.c_str(), listed.c_str());
      return kUsageError;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string what = e.what();
    if (dynamic_cast<const CLI::RequiredError*>(&e) && what.rfind("A subcommand", 0) == 0)
      what = "give a command: " + listed + " (goldpath --help)";
    for (char& c : what)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "goldpath: error: %s\n", what.c_str());
    return kUsageError;
  } catch (const Error& e) {  // an option's own parse (an id list, a seed)
    std::fprintf(stderr, "goldpath: error: %s\n", e.what());
    return kUsageError;
  }
  if (!max_host_memory.empty()) set_host_memory_limit(parse_byte_size(max_host_memory, "--max-host-memory"));
  host_memory_limit();  // a malformed $GOLDPATH_MAX_HOST_MEMORY fails here, before any work
  ra.max_new_tokens_given = r->count("--max-new-tokens") > 0;
  ra.prompt_given = r->count("--prompt") + r->count("--prompt-file") > 0;
  ga.prompt_given = gcmd->count("--prompt") + gcmd->count("--prompt-file") > 0;
  ta.text_given = tcmd->count("--text") > 0;
  if (v->parsed()) return cmd_verify(va);
  if (gcmd->parsed()) return cmd_generate(ga);
  if (r->parsed()) return cmd_run(ra);
  if (bcmd->parsed()) return cmd_bench(ba);
  if (ccmd->parsed()) return cmd_compare(ca);
  if (rpcmd->parsed()) return cmd_report(rpa);
  if (ppcmd->parsed()) return cmd_perplexity(ppa);
  if (icmd->parsed()) return cmd_info(ia);
  if (ocmd->parsed()) return cmd_ops(oa);
  if (tcmd->parsed()) return cmd_tokenize(ta);
  if (dcmd->parsed()) return cmd_detokenize(da);
  return 2;
}

}  // namespace
}  // namespace gp

int main(int argc, char** argv) {
  gp::install_signal_handlers();
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
