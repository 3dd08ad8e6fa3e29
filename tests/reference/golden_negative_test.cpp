// golden_negative_test.cpp: the golden checks can fail. Each test breaks one
// thing a real implementation gets wrong (sliding window, RoPE base, q/k row
// layout, a small error in the logits) and expects verify_model to catch it and
// name the place.
#include <gtest/gtest.h>

#include <cstring>

#include "core/golden.h"
#include "harness/verify.h"
#include "reference/model.h"
#include "reference/registry.h"

namespace gp {
namespace {

std::string src(const std::string& rel) { return std::string(GOLDPATH_SOURCE_DIR) + "/" + rel; }

std::vector<std::string> failed_checks(const std::vector<CheckResult>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs)
    if (!r.pass) out.push_back(r.check);
  return out;
}

// An op version that says it cannot run here (UnsupportedOp) is skipped with
// its reason; any other error, and a wrong result, fail.
TEST(GoldenChecksCatch, OpErrorsFailAndUnsupportedOpsAreSkipped) {
  GoldenFile g(src("golden/tiny_llama.h5"));
  auto table = ref::reference_ops();
  ASSERT_TRUE(table.count("attention") && table.count("rmsnorm") && table.count("swiglu"));
  table["attention"] = [](OpArgs&) { throw UnsupportedOp("needs a newer device"); };
  table["rmsnorm"] = [](OpArgs&) { fail("kernel launch failed"); };
  const OpFn swiglu = table["swiglu"];
  table["swiglu"] = [swiglu](OpArgs& a) {
    swiglu(a);
    a.out().f[0] += 1.0f;
  };
  int skipped = 0, attention = 0, broken = 0;
  for (const auto& r : verify_ops(g, "reference", table)) {
    const bool att = r.check.rfind("op attention/", 0) == 0;
    const bool bad = r.check.rfind("op rmsnorm/", 0) == 0 || r.check.rfind("op swiglu/", 0) == 0;
    attention += att, broken += bad, skipped += r.skipped;
    if (att) {
      EXPECT_TRUE(r.skipped && r.pass) << r.check;
      EXPECT_NE(r.detail.find("needs a newer device"), std::string::npos) << r.detail;
    } else if (bad) {
      EXPECT_FALSE(r.pass) << r.check;
      EXPECT_FALSE(r.skipped) << r.check;
    } else {
      EXPECT_TRUE(r.pass && !r.skipped) << r.check << ": " << r.detail;
    }
  }
  EXPECT_GT(attention, 0);
  EXPECT_GT(broken, 1);
  EXPECT_EQ(skipped, attention);
}

TEST(GoldenChecksCatch, MissingSlidingWindow) {
  GoldenFile g(src("golden/tiny_phi3.h5"));
  auto m = load_model(src("golden/models/tiny-phi3"));
  ASSERT_GT(m->cfg.sliding_window, 0);
  m->cfg.sliding_window = 0;
  ref::ReferenceBackend be(*m);
  const auto failed = failed_checks(verify_model(g, be, *m));
  ASSERT_FALSE(failed.empty());
  // the window only bites once the sequence is longer than it: layer 0 of the
  // prefill already sees more than 8 tokens
  EXPECT_EQ(failed.front(), "layer 0");
}

TEST(GoldenChecksCatch, WrongRopeBase) {
  GoldenFile g(src("golden/tiny_llama.h5"));
  auto m = load_model(src("golden/models/tiny-llama"));
  m->cfg.rope_theta *= 1.01;
  ref::ReferenceBackend be(*m);
  const auto failed = failed_checks(verify_model(g, be, *m));
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed.front(), "layer 0");
}

TEST(GoldenChecksCatch, InterleavedQueryRows) {
  // q rows in GGUF's interleaved order instead of transformers' rotate-half order
  GoldenFile g(src("golden/tiny_llama.h5"));
  auto m = load_model(src("golden/models/tiny-llama"));
  const int hd = m->cfg.head_dim, H = m->cfg.n_heads;
  TensorView& wq = m->layers[0].wq;
  const int64_t rb = wq.row_bytes();
  std::vector<uint8_t> rows(wq.nbytes);
  for (int h = 0; h < H; h++)
    for (int i = 0; i < hd / 2; i++)
      for (int j = 0; j < 2; j++)
        std::memcpy(rows.data() + (int64_t)(h * hd + 2 * i + j) * rb, wq.row(h * hd + j * hd / 2 + i), rb);
  m->owned.push_back(std::move(rows));
  wq.data = m->owned.back().data();
  ref::ReferenceBackend be(*m);
  const auto rs = verify_model(g, be, *m);
  const auto failed = failed_checks(rs);
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed.front(), "layer 0");
  for (const auto& r : rs)
    if (r.check == "layer 0") EXPECT_NE(r.detail.find("layer 0 q"), std::string::npos) << r.detail;
}

// A backend whose logits are off by a small relative error.
class SkewedLogits : public Backend {
 public:
  SkewedLogits(Backend& inner, int vocab, float rel) : inner_(inner), vocab_(vocab), rel_(rel) {}
  std::string name() const override { return "skewed"; }
  void reset() override { inner_.reset(); }
  void forward(const int32_t* tokens, int n, int pos, float* logits, bool all) override {
    inner_.set_activation_sink(sink_);
    inner_.forward(tokens, n, pos, logits, all);
    const int rows = all ? n : 1;
    for (int64_t i = 0; i < (int64_t)rows * vocab_; i++) logits[i] *= 1.0f + rel_;
  }
  int64_t memory_bytes() const override { return inner_.memory_bytes(); }
  int vocab_size() const override { return vocab_; }

 private:
  Backend& inner_;
  int vocab_;
  float rel_;
};

TEST(GoldenChecksCatch, LogitsOffByOnePercent) {
  GoldenFile g(src("golden/tiny_llama.h5"));
  auto m = load_model(src("golden/models/tiny-llama"));
  ref::ReferenceBackend inner(*m);
  SkewedLogits be(inner, m->cfg.vocab_size, 0.01f);
  const auto rs = verify_model(g, be, *m);
  for (const auto& r : rs) {
    if (r.check == "logits") {
      EXPECT_FALSE(r.pass);
      EXPECT_NE(r.detail.find("% used"), std::string::npos) << "the story names the share of tolerance used";
      EXPECT_NE(r.detail.find("at ["), std::string::npos) << "the story names multi-dimensional indices";
    } else if (r.check != "greedy tokens") {
      EXPECT_TRUE(r.pass) << r.check << " should not be affected: " << r.detail;
    }
  }
}

}  // namespace
}  // namespace gp
