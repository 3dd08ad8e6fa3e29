// backend.cpp: the host defaults of Backend's generation path (backend.h).
#include "core/backend.h"

#include <algorithm>

#include "core/error.h"

namespace gp {

void Backend::forward_for_sampling(const int32_t* tokens, int n, int pos) {
  kept_ = false;
  kept_logits_.resize((size_t)vocab_size());
  forward(tokens, n, pos, kept_logits_.data(), false);
  kept_ = true;
}

int32_t Backend::sample_next(Sampler& sampler, const std::vector<int32_t>& history, float* logits) {
  GP_CHECK(kept_, name(), ": sample_next without a forward_for_sampling before it");
  GP_CHECK(sampler.vocab_size() == vocab_size(), name(), ": the sampler is for ", sampler.vocab_size(),
           " tokens, the model has ", vocab_size());
  kept_ = false;
  if (logits) std::copy(kept_logits_.begin(), kept_logits_.end(), logits);
  return sampler.sample(kept_logits_.data(), history);
}

}  // namespace gp
