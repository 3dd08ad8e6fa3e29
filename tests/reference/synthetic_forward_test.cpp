// synthetic_forward_test.cpp: the reference forward on synthetic models
// (core/synthetic.h) stays finite through every layer in every dtype, so
// benchmarks on them measure real arithmetic, not NaN propagation.
#include <gtest/gtest.h>

#include <cmath>

#include "core/synthetic.h"
#include "reference/model.h"

namespace gp {
namespace {

// Checks every activation point of every layer.
class FiniteSink : public ActivationSink {
 public:
  void on_activation(int layer, const char* point, const float* data, int64_t rows, int64_t cols) override {
    for (int64_t i = 0; i < rows * cols; i++)
      if (!std::isfinite(data[i])) bad = std::string(point) + " of layer " + std::to_string(layer);
    points++;
  }
  std::string bad;
  int points = 0;
};

TEST(SyntheticForward, LogitsAndActivationsAreFiniteInEveryDtype) {
  for (DType t : synthetic_dtypes()) {
    auto m = make_synthetic_model(synthetic_preset("tiny").cfg, t, 3, "tiny");
    ref::ReferenceBackend be(*m);
    FiniteSink sink;
    be.set_activation_sink(&sink);
    const std::vector<int32_t> prompt = {5, 17, 400, 3, 99, 250, 7, 511};
    std::vector<float> logits(prompt.size() * m->cfg.vocab_size);
    be.forward(prompt.data(), (int)prompt.size(), 0, logits.data(), true);
    int32_t next = 42;
    be.forward(&next, 1, (int)prompt.size(), logits.data(), false);  // a decode step against the cache
    EXPECT_TRUE(sink.bad.empty()) << dtype_name(t) << ": non-finite " << sink.bad;
    EXPECT_GT(sink.points, 2 * 8);
    double spread = 0;
    for (int64_t i = 0; i < m->cfg.vocab_size; i++) {
      ASSERT_TRUE(std::isfinite(logits[i])) << dtype_name(t) << " logit " << i;
      spread = std::max(spread, (double)std::fabs(logits[i] - logits[0]));
    }
    EXPECT_GT(spread, 0.0) << dtype_name(t) << ": all logits equal";
  }
}

TEST(SyntheticForward, SmolLM2ShapesStayFiniteThroughThirtyLayers) {
  auto m = make_synthetic_model("synthetic:smollm2-135m:q4_0");
  ref::ReferenceBackend be(*m);
  const std::vector<int32_t> prompt = {1, 2000, 31000, 49151};
  std::vector<float> logits(m->cfg.vocab_size);
  be.forward(prompt.data(), (int)prompt.size(), 0, logits.data(), false);
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace gp
