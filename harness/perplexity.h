// perplexity.h: `goldpath perplexity`, as llama.cpp's llama-perplexity
// computes it, so figures compare: the text tokenized whole (with BOS where
// the tokenizer adds one), cut into chunks of --ctx-size tokens, each chunk
// evaluated from an empty cache with its first token replaced by BOS, and
// only the second half of each chunk scored (every token there has at least
// ctx/2 tokens of context). With several backends, each is also held to the
// reference, as llama-perplexity --kl-divergence reports: KL(reference ||
// backend) per scored token (mean, median, p99, max), top-1 agreement and the
// mean change in the probability of the right token.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gp {

class Backend;

// The scoring of one chunk's logits (n_ctx rows of V) against its tokens,
// added to running sums; exposed for tests.
struct PerplexitySums {
  double nll = 0, nll2 = 0;  // sums of -log p(right token) and its square
  int64_t count = 0;
  double ppl() const;
  double ppl_error() const;  // llama-perplexity's uncertainty of the estimate
};
void score_chunk(const float* logits, const int32_t* tokens, int n_ctx, int64_t V, PerplexitySums& s);

// KL(base || other) of one logit row, in nats, and the probabilities both give `right`.
double kl_divergence_row(const float* base, const float* other, int64_t V, int32_t right, double* p_base,
                         double* p_other);

struct PerplexityArgs {
  std::string model = "default", file, backend = "reference", format = "table";
  int ctx = 0;      // 0: 512, at most the model's context
  int chunks = -1;  // -1: all the text gives
};
CLI::App* add_perplexity_command(CLI::App& app, PerplexityArgs& a);
int cmd_perplexity(const PerplexityArgs& a);

}  // namespace gp
