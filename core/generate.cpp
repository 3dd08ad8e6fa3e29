// generate.cpp: the generation loop (generate.h).
#include "core/generate.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/memory.h"

namespace gp {

GenerateResult generate(Backend& be, const ModelConfig& cfg, const std::vector<int32_t>& prompt,
                        const GenerateOptions& opt, const std::function<void(int32_t)>& on_token) {
  using clock = std::chrono::steady_clock;
  GP_CHECK(!prompt.empty(), "the prompt is empty: give at least one token");
  GP_CHECK(opt.max_new_tokens >= 0, "--max-new-tokens must be >= 0, got ", opt.max_new_tokens);
  for (int32_t id : prompt)
    GP_CHECK(id >= 0 && id < cfg.vocab_size, "prompt token id ", id, " is outside the vocabulary (0..",
             cfg.vocab_size - 1, ")");
  const int64_t total = (int64_t)prompt.size() + opt.max_new_tokens;
  GP_CHECK(total <= cfg.max_seq_len, "prompt (", prompt.size(), " tokens) + --max-new-tokens (",
           opt.max_new_tokens, ") exceeds the model's context of ", cfg.max_seq_len, " tokens");

  GenerateResult r;
  r.prompt = prompt;
  if (opt.max_new_tokens == 0) return r;
  if (opt.keep_logits) {
    check_host_alloc((int64_t)opt.max_new_tokens, (int64_t)cfg.vocab_size * 4,
                     str("logits of ", opt.max_new_tokens, " steps x ", cfg.vocab_size, " tokens"));
    r.logits.reserve((size_t)opt.max_new_tokens);
  }
  Sampler sampler(opt.sampler, cfg.vocab_size);
  GP_CHECK(be.vocab_size() == cfg.vocab_size, be.name(), " backend has ", be.vocab_size(),
           " tokens of vocabulary, the model config ", cfg.vocab_size);
  std::vector<int32_t> history = prompt;
  be.reset();

  // each step: a forward keeping its logits in the backend, then the token
  // chosen where they are (on the device for CUDA backends)
  auto t0 = clock::now();
  be.forward_for_sampling(prompt.data(), (int)prompt.size(), 0);
  r.prefill_s = std::chrono::duration<double>(clock::now() - t0).count();
  int pos = (int)prompt.size();
  auto t_first = t0;
  for (int step = 0; step < opt.max_new_tokens; step++) {
    if (step > 0) {
      const int32_t last = r.generated.back();
      be.forward_for_sampling(&last, 1, pos);
      pos++;
    }
    float* keep = nullptr;
    if (opt.keep_logits) {
      r.logits.emplace_back((size_t)cfg.vocab_size);
      keep = r.logits.back().data();
    }
    const int32_t id = be.sample_next(sampler, history, keep);
    r.generated.push_back(id);
    history.push_back(id);
    if (step == 0) {
      t_first = clock::now();
      r.ttft_s = std::chrono::duration<double>(t_first - t0).count();
    }
    if (on_token) on_token(id);
    if (opt.stop_at_eos &&
        std::find(cfg.eos_ids.begin(), cfg.eos_ids.end(), id) != cfg.eos_ids.end()) {
      r.stopped_at_eos = true;
      break;
    }
  }
  r.decode_s = std::chrono::duration<double>(clock::now() - t_first).count();
  return r;
}

}  // namespace gp
