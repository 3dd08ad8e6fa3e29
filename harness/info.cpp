// info.cpp: `goldpath info` (info.h).
#include "harness/info.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/backend_registry.h"
#include "core/chat.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/memory_plan.h"
#include "core/model.h"
#include "core/tokenizer.h"
#include "harness/cli_checks.h"
#include "harness/table.h"
#include "harness/verify.h"

namespace gp {
namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

nlohmann::json backends_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const BackendEntry* e : registered_backends()) {
    const std::string why = e->unavailable();
    nlohmann::json j = {{"name", e->name},
                        {"available", why.empty()},
                        {"simulated", e->simulated},
                        {"activation_storage", dtype_name(e->storage)},
                        {"ops", e->ops ? e->ops().size() : 0}};
    if (!why.empty()) j["why_not"] = why;
    if (why.empty() && e->description) j["description"] = e->description();
    out.push_back(j);
  }
  return out;
}

}  // namespace

int print_backends(const std::string& format) {
  const nlohmann::json b = backends_json();
  if (format == "json") {
    std::cout << b.dump(2) << "\n";
    return 0;
  }
  Table t({"backend", "available", "activations", "op entries", "runs with / why not"});
  for (const auto& j : b)
    t.add({j["name"].get<std::string>(), j["available"] ? (j["simulated"] ? "yes (simulated device)" : "yes") : "no",
           j["activation_storage"].get<std::string>(), std::to_string(j["ops"].get<size_t>()),
           one_line(j.contains("why_not") ? j["why_not"].get<std::string>() : j.value("description", ""))});
  std::cout << t.render();
  return 0;
}

CLI::App* add_info_command(CLI::App& app, InfoArgs& a) {
  auto* c = app.add_subcommand("info", "what a model is and needs: architecture, shapes, every tensor's dtype, "
                                       "tokenizer, chat template, memory for a context; or the backends");
  c->add_option("model", a.model, "a GGUF file, a Hugging Face folder, 'default' or synthetic:<preset>");
  c->add_option("--model,-m", a.model, "the same as the positional MODEL");
  c->add_option("--ctx-size,-c", a.ctx, "context to plan memory for (default: the model's)")->check(at_least(1, true));
  c->add_flag("--list-backends", a.list_backends, "every backend goldpath knows, and why one cannot run here");
  c->add_flag("!--no-tensors", a.tensors, "leave out the per-tensor list");
  c->add_option("--format", a.format)->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  return c;
}

int cmd_info(const InfoArgs& a) {
  if (a.model.empty()) {
    if (a.list_backends) return print_backends(a.format);
    fail("info: give a model (a GGUF file, a Hugging Face folder, 'default' or synthetic:<preset>) or --list-backends");
  }
  const std::string path = resolve_model(a.model);
  auto m = load_model(path);
  const ModelConfig& c = m->cfg;
  const int64_t ctx = a.ctx > 0 ? a.ctx : c.max_seq_len;
  GP_CHECK(ctx <= c.max_seq_len, "--ctx-size ", ctx, " exceeds the model's context of ", c.max_seq_len, " tokens");
  const int64_t prefill = std::min<int64_t>(ctx, 512);

  nlohmann::json j;
  j["model"] = a.model;
  j["path"] = path;
  j["format"] = m->format;
  nlohmann::json eos = c.eos_ids;
  j["config"] = {{"architecture", arch_name(c.arch)}, {"layers", c.n_layers},       {"dim", c.dim},
                 {"heads", c.n_heads},                 {"kv_heads", c.n_kv_heads},   {"head_dim", c.head_dim},
                 {"ffn_dim", c.ffn_dim},               {"vocab_size", c.vocab_size}, {"context", c.max_seq_len},
                 {"sliding_window", c.sliding_window}, {"rope_theta", c.rope_theta}, {"rms_eps", c.rms_eps},
                 {"tied_embeddings", c.tied_embeddings}, {"bos_id", c.bos_id},       {"eos_ids", eos}};
  const std::vector<WeightEntry> weights = model_weights(*m);
  std::map<std::string, std::pair<int64_t, int64_t>> by_dtype;  // dtype -> (tensors, bytes)
  int64_t params = 0;
  nlohmann::json tensors = nlohmann::json::array();
  for (const WeightEntry& w : weights) {
    auto& d = by_dtype[dtype_name(w.dtype)];
    d.first++;
    d.second += w.nbytes();
    params += w.numel();
    tensors.push_back({{"name", w.name}, {"dtype", dtype_name(w.dtype)}, {"shape", w.shape}, {"bytes", w.nbytes()}});
  }
  j["parameters"] = params;
  j["weight_bytes"] = m->weight_bytes();
  for (const auto& [d, nb] : by_dtype) j["dtypes"][d] = {{"tensors", nb.first}, {"bytes", nb.second}};
  if (a.tensors) j["tensors"] = tensors;

  try {
    auto tok = Tokenizer::for_model(*m);
    nlohmann::json t = {{"vocab_size", tok->vocab_size()}, {"bos", tok->bos_token()}, {"eos", tok->eos_token()}};
    const std::string& jinja = tok->chat_template();
    if (jinja.empty()) {
      t["chat_template"] = "none";
    } else {
      try {
        t["chat_template"] = ChatTemplate::recognize(jinja, tok->bos_token(), tok->eos_token()).name();
      } catch (const Error& e) {
        t["chat_template"] = one_line(std::string("not recognized: ") + e.what());
      }
    }
    j["tokenizer"] = t;
  } catch (const Error& e) {
    j["tokenizer"] = {{"none", one_line(e.what())}};
  }

  nlohmann::json mem = nlohmann::json::array();
  for (const BackendEntry* e : registered_backends()) {
    const MemoryPlan p = plan_memory(e->name, c, weights, ctx, prefill);
    mem.push_back({{"backend", e->name}, {"context_tokens", ctx}, {"prefill_tokens", prefill},
                   {"weights", p.weights}, {"kv_cache", p.kv_cache}, {"activations", p.activations},
                   {"workspace", p.workspace}, {"context", p.context}, {"total", p.total()},
                   {"kv_bytes_per_token", p.kv_bytes_per_token}});
  }
  j["memory"] = mem;

  if (a.format == "json") {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("model: %s (%s, %s)\n", a.model.c_str(), path.c_str(), m->format.c_str());
  std::printf("architecture: %s, %d layers, dim %d, %d heads (%d KV heads) of %d, ffn %d, vocab %d, context %d\n",
              arch_name(c.arch), c.n_layers, c.dim, c.n_heads, c.n_kv_heads, c.head_dim, c.ffn_dim, c.vocab_size,
              c.max_seq_len);
  std::printf("rope theta %g, rms eps %g, sliding window %s, embeddings %s\n", c.rope_theta, c.rms_eps,
              c.sliding_window ? std::to_string(c.sliding_window).c_str() : "none",
              c.tied_embeddings ? "tied to the LM head" : "separate from the LM head");
  std::printf("parameters: %.1f M, weights %s:", (double)params / 1e6, human_bytes(m->weight_bytes()).c_str());
  for (const auto& [d, nb] : by_dtype) std::printf(" %s %lld tensor%s %s;", d.c_str(), (long long)nb.first, nb.first == 1 ? "" : "s", human_bytes(nb.second).c_str());
  std::printf("\n");
  const auto& t = j["tokenizer"];
  if (t.contains("none"))
    std::printf("tokenizer: none (%s)\n", t["none"].get<std::string>().c_str());
  else
    std::printf("tokenizer: %d tokens, BOS %s, EOS %s, chat template %s\n", t["vocab_size"].get<int>(),
                t["bos"].get<std::string>().empty() ? "none" : t["bos"].get<std::string>().c_str(),
                t["eos"].get<std::string>().empty() ? "none" : t["eos"].get<std::string>().c_str(),
                t["chat_template"].get<std::string>().c_str());
  std::printf("\nmemory for a context of %lld tokens (prefill of %lld; a plan, before anything is allocated):\n",
              (long long)ctx, (long long)prefill);
  Table mt({"backend", "weights", "KV cache", "activations", "workspace", "context", "total"});
  for (const auto& r : mem)
    mt.add({r["backend"].get<std::string>(), human_bytes(r["weights"].get<int64_t>()), human_bytes(r["kv_cache"].get<int64_t>()),
            human_bytes(r["activations"].get<int64_t>()), human_bytes(r["workspace"].get<int64_t>()),
            human_bytes(r["context"].get<int64_t>()), human_bytes(r["total"].get<int64_t>())});
  std::cout << mt.render();
  if (a.tensors) {
    std::printf("\ntensors (%zu):\n", tensors.size());
    Table tt({"name", "dtype", "shape", "bytes"});
    for (const auto& w : tensors)
      tt.add({w["name"].get<std::string>(), w["dtype"].get<std::string>(), shape_text(w["shape"].get<std::vector<int64_t>>()),
             human_bytes(w["bytes"].get<int64_t>())});
    std::cout << tt.render();
  }
  return 0;
}

}  // namespace gp
