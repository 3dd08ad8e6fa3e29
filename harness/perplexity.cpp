// perplexity.cpp: `goldpath perplexity` (perplexity.h).
#include "harness/perplexity.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/backend.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/model.h"
#include "core/tokenizer.h"
#include "harness/backends.h"
#include "harness/cli_checks.h"
#include "harness/table.h"
#include "harness/verify.h"

namespace gp {
namespace {

// log of the softmax's denominator of one row, in double
double log_sum_exp(const float* x, int64_t V) {
  double m = -INFINITY;
  for (int64_t i = 0; i < V; i++) m = std::max(m, (double)x[i]);
  double s = 0;
  for (int64_t i = 0; i < V; i++) s += std::exp((double)x[i] - m);
  return m + std::log(s);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GP_CHECK(in.good(), "--file ", path, ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  GP_CHECK(!in.bad(), "--file ", path, ": read error");
  return ss.str();
}

double percentile(std::vector<double> v, double q) {  // nearest rank on sorted values, as llama.cpp
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t k = std::min(v.size() - 1, (size_t)std::llround(q * (double)(v.size() - 1)));
  return v[k];
}

std::string num(double v, const char* f = "%.4f") {
  char b[48];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

struct Versus {  // one backend against the reference
  std::vector<double> kl;
  int64_t same_top1 = 0;
  double dp = 0;  // sum of p_backend(right) - p_reference(right)
};

}  // namespace

double PerplexitySums::ppl() const { return count ? std::exp(nll / (double)count) : NAN; }

double PerplexitySums::ppl_error() const {
  if (count < 2) return NAN;
  const double mean = nll / (double)count, var = nll2 / (double)count - mean * mean;
  return ppl() * std::sqrt(std::max(var, 0.0) / (double)(count - 1));
}

void score_chunk(const float* logits, const int32_t* tokens, int n_ctx, int64_t V, PerplexitySums& s) {
  const int first = n_ctx / 2;
  for (int j = first; j < n_ctx - 1; j++) {
    const float* row = logits + (int64_t)j * V;
    const int32_t right = tokens[j + 1];
    GP_CHECK(right >= 0 && right < V, "perplexity: token id ", right, " outside the vocabulary of ", V);
    const double nll = log_sum_exp(row, V) - (double)row[right];
    s.nll += nll;
    s.nll2 += nll * nll;
    s.count++;
  }
}

double kl_divergence_row(const float* base, const float* other, int64_t V, int32_t right, double* p_base,
                         double* p_other) {
  const double lb = log_sum_exp(base, V), lo = log_sum_exp(other, V);
  double kl = 0;
  for (int64_t i = 0; i < V; i++) {
    const double a = (double)base[i] - lb, b = (double)other[i] - lo;
    kl += std::exp(a) * (a - b);
  }
  *p_base = std::exp((double)base[right] - lb);
  *p_other = std::exp((double)other[right] - lo);
  return std::max(kl, 0.0);  // rounding may leave a tiny negative for identical rows
}

CLI::App* add_perplexity_command(CLI::App& app, PerplexityArgs& a) {
  auto* c = app.add_subcommand("perplexity",
                               "perplexity over a text file as llama-perplexity computes it; with several backends, "
                               "each one's KL divergence from the reference");
  c->add_option("--model,-m", a.model, "a GGUF file, a Hugging Face folder, or 'default'")->capture_default_str();
  c->add_option("--file,-f", a.file, "the UTF-8 text (e.g. golden/perplexity.txt)")->required();
  c->add_option("--ctx-size,-c", a.ctx, "tokens per chunk (default 512, at most the model's context)")
      ->check(at_least(4, true));
  c->add_option("--chunks", a.chunks, "at most this many chunks (default: all the text gives)")->check(at_least(1, true));
  c->add_option("--backend", a.backend,
                "backend name, 'default' (reference and the GPU backends) or 'all' (also cuda-sim)")
      ->capture_default_str();
  c->add_option("--format", a.format)->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  return c;
}

int cmd_perplexity(const PerplexityArgs& a) {
  std::vector<std::string> backends = select_backends(a.backend);
  // the reference is the base every other backend is held to; it runs first
  backends.erase(std::remove(backends.begin(), backends.end(), "reference"), backends.end());
  backends.insert(backends.begin(), "reference");
  const std::string mpath = resolve_model(a.model);
  auto model = load_model(mpath);
  auto tok = Tokenizer::for_model(*model);
  const std::string text = read_file(a.file);
  const std::vector<int32_t> ids = tok->encode(text, true);
  const std::vector<int32_t> specials = tok->encode("", true);
  const bool add_bos = !specials.empty() && tok->bos_id() >= 0 && specials[0] == tok->bos_id();
  const int n_ctx = a.ctx > 0 ? a.ctx : std::min(512, model->cfg.max_seq_len);
  GP_CHECK(n_ctx <= model->cfg.max_seq_len, "--ctx-size ", n_ctx, " exceeds the model's context of ",
           model->cfg.max_seq_len, " tokens");
  GP_CHECK((int64_t)ids.size() >= 2 * (int64_t)n_ctx, "--file ", a.file, ": ", ids.size(),
           " tokens; perplexity needs at least 2 x --ctx-size = ", 2 * n_ctx, " (a smaller --ctx-size, or more text)");
  int n_chunks = (int)(ids.size() / (size_t)n_ctx);
  if (a.chunks > 0) n_chunks = std::min(n_chunks, a.chunks);
  const int64_t V = model->cfg.vocab_size;
  check_host_alloc(2 * (int64_t)n_ctx, V * 4, "perplexity: logits of two chunks");

  std::fprintf(stderr, "perplexity: %s, %zu tokens, %d chunks of %d (the second half of each scored)%s, backends:",
               a.model.c_str(), ids.size(), n_chunks, n_ctx, add_bos ? ", BOS first" : "");
  for (const std::string& b : backends) std::fprintf(stderr, " %s", b.c_str());
  std::fprintf(stderr, "\n");

  std::vector<std::unique_ptr<Backend>> bes;
  for (const std::string& b : backends) bes.push_back(make_backend(b, *model));
  std::vector<PerplexitySums> sums(backends.size());
  std::map<std::string, Versus> vs;
  std::vector<float> base((size_t)n_ctx * V), other((size_t)n_ctx * V);
  for (int c = 0; c < n_chunks; c++) {
    std::vector<int32_t> toks(ids.begin() + (int64_t)c * n_ctx, ids.begin() + (int64_t)(c + 1) * n_ctx);
    if (add_bos) toks[0] = tok->bos_id();
    for (size_t k = 0; k < bes.size(); k++) {
      std::vector<float>& lg = k == 0 ? base : other;
      bes[k]->reset();
      bes[k]->forward(toks.data(), n_ctx, 0, lg.data(), true);
      score_chunk(lg.data(), toks.data(), n_ctx, V, sums[k]);
      if (k == 0) continue;
      Versus& v = vs[backends[k]];
      for (int j = n_ctx / 2; j < n_ctx - 1; j++) {
        const float* rb = base.data() + (int64_t)j * V;
        const float* ro = other.data() + (int64_t)j * V;
        double pb = 0, po = 0;
        v.kl.push_back(kl_divergence_row(rb, ro, V, toks[j + 1], &pb, &po));
        v.dp += po - pb;
        v.same_top1 += std::max_element(rb, rb + V) - rb == std::max_element(ro, ro + V) - ro;
      }
    }
    std::fprintf(stderr, "[%d]%.4f%s", c + 1, sums[0].ppl(), c + 1 < n_chunks ? "," : "\n");
  }

  nlohmann::json out = nlohmann::json::array();
  Table t({"backend", "PPL", "+/-", "tokens", "KL mean", "KL median", "KL p99", "KL max", "top-1 agree", "mean dp"});
  for (size_t k = 0; k < backends.size(); k++) {
    const PerplexitySums& s = sums[k];
    nlohmann::json j = {{"backend", backends[k]}, {"ppl", s.ppl()}, {"ppl_error", s.ppl_error()},
                        {"tokens_scored", s.count}, {"chunks", n_chunks}, {"ctx_size", n_ctx}};
    std::vector<std::string> row = {backends[k], num(s.ppl()), num(s.ppl_error()), std::to_string(s.count)};
    if (k == 0) {
      row.insert(row.end(), {"(base)", "", "", "", "", ""});
    } else {
      const Versus& v = vs[backends[k]];
      double mean = 0;
      for (double x : v.kl) mean += x;
      mean /= (double)v.kl.size();
      const double top1 = (double)v.same_top1 / (double)v.kl.size(), dp = v.dp / (double)v.kl.size();
      j["kl_mean"] = mean;
      j["kl_median"] = percentile(v.kl, 0.5);
      j["kl_p99"] = percentile(v.kl, 0.99);
      j["kl_max"] = percentile(v.kl, 1.0);
      j["top1_agreement"] = top1;
      j["mean_delta_p"] = dp;
      row.insert(row.end(), {num(mean, "%.3g"), num(j["kl_median"].get<double>(), "%.3g"), num(j["kl_p99"].get<double>(), "%.3g"),
                             num(j["kl_max"].get<double>(), "%.3g"), num(100 * top1, "%.2f%%"), num(100 * dp, "%+.4f%%")});
    }
    out.push_back(j);
    t.add(row);
  }
  if (a.format == "json") std::cout << out.dump(2) << "\n";
  else std::cout << t.render();
  return 0;
}

}  // namespace gp
