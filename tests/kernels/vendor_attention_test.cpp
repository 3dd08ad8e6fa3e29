// vendor_attention_test.cpp: cuDNN's fused attention (kernels/vendor_attention.cpp)
// against the reference gp::ref::attention: head sizes 64, 96, 128 and the
// registry's odd ones, GQA, a cached prefix (pos0 > 0), a single query, odd
// T, a sliding window; the same bits on a second run; refusals with their
// reason. The support rules (attention_cudnn_unsupported_reason) are a pure
// function of shape and compute capability, tested without a device (the
// T4's sm_75 among them). Device tests skip without a device, and on one
// cuDNN's fused attention does not run on (before sm_80), with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "core/ops.h"
#include "core/quant.h"
#include "kernels/cuda_check.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "reference/ops.h"
#include "tests/kernels/attention_cases.h"
#include "tests/kernels/skip.h"

#ifdef GOLDPATH_HAVE_CUDNN
#include <cudnn.h>
#endif

namespace gp {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- the support rules: no device needed ----------------------------------

// "" when this build has cuDNN and its frontend, else the reason for any shape
std::string build_reason() { return cuda::attention_cudnn_unsupported_reason({32, 8, 96, 0}, 9, 0); }

TEST(CudnnAttentionSupport, BuildWithoutCudnnOrFrontendSaysSo) {
  const std::string why = build_reason();
  if (why.empty()) GTEST_SKIP() << "this build has cuDNN and its frontend";
  EXPECT_TRUE(has(why, "this build has no cuDNN")) << why;
  EXPECT_EQ(cuda::attention_cudnn_unsupported_reason({32, 8, 96, 0}, 7, 5), why);
}

TEST(CudnnAttentionSupport, T4IsRefusedWithTheReason) {
  if (!build_reason().empty()) GTEST_SKIP() << build_reason();
  const std::string why = cuda::attention_cudnn_unsupported_reason({32, 32, 96, 2047}, 7, 5);
  EXPECT_TRUE(has(why, "sm_80")) << why;
  EXPECT_TRUE(has(why, "sm_75")) << why;
  EXPECT_TRUE(has(why, "T4")) << why;
  EXPECT_TRUE(has(cuda::attention_cudnn_unsupported_reason({32, 32, 96, 0}, 7, 0), "sm_70"));
  EXPECT_TRUE(has(cuda::attention_cudnn_unsupported_reason({32, 32, 96, 0}, 6, 1), "sm_61"));
}

TEST(CudnnAttentionSupport, AmpereAndNewerTakeTheModelShapes) {
  if (!build_reason().empty()) GTEST_SKIP() << build_reason();
  const std::vector<std::pair<int, int>> ccs{{8, 0}, {8, 6}, {8, 9}, {9, 0}, {10, 0}};
  const std::vector<cuda::AttentionShape> shapes{{9, 3, 64, 0}, {32, 32, 96, 2047}, {32, 8, 128, 0},
                                                 {4, 2, 24, 0},  {4, 4, 16, 4},     {2, 1, 256, 7}};
  for (auto [major, minor] : ccs)
    for (const cuda::AttentionShape& s : shapes)
      EXPECT_EQ(cuda::attention_cudnn_unsupported_reason(s, major, minor), "")
          << "sm_" << major << minor << ", Hq " << s.Hq << ", Hkv " << s.Hkv << ", hd " << s.hd;
}

TEST(CudnnAttentionSupport, UnsupportedShapesSayWhy) {
  if (!build_reason().empty()) GTEST_SKIP() << build_reason();
  EXPECT_TRUE(has(cuda::attention_cudnn_unsupported_reason({4, 2, 20, 0}, 9, 0), "head size 20"));
  EXPECT_TRUE(has(cuda::attention_cudnn_unsupported_reason({4, 2, 264, 0}, 9, 0), "head size 264"));
  EXPECT_TRUE(has(cuda::attention_cudnn_unsupported_reason({5, 2, 64, 0}, 9, 0), "not a positive multiple"));
  EXPECT_TRUE(has(cuda::attention_cudnn_unsupported_reason({4, 2, 64, -1}, 9, 0), "sliding window -1"));
}

TEST(CudnnAttentionSupport, WithoutADeviceSaysSo) {
  std::string why;
  if (cuda::device_count(&why) > 0) GTEST_SKIP() << "a device is present";
  EXPECT_TRUE(has(cuda::attention_cudnn_unsupported({32, 8, 128, 0}, 0), "no CUDA device")) << why;
}

// ---- against the reference on a device -------------------------------------

using namespace gptest;

std::vector<Case> cases() {
  return {
      {"hd64", 64, 64, 4, 4, 64, 0},
      {"hd64_gqa_cached_odd_T", 37, 101, 9, 3, 64, 0},
      {"hd96_phi3", 40, 40, 8, 8, 96, 0},
      {"hd96_cached", 19, 83, 6, 2, 96, 0},
      {"hd128_gqa", 33, 33, 8, 2, 128, 0},
      {"hd128_cached", 65, 200, 4, 1, 128, 0},
      {"one_query", 1, 50, 4, 2, 64, 0},
      {"two_queries_cached", 2, 129, 4, 2, 128, 0},
      {"window_cached", 75, 300, 6, 2, 64, 100},
      {"window_phi3_over_context", 50, 60, 8, 8, 96, 2047},
      {"odd_hd24", 7, 7, 4, 2, 24, 0},
      {"odd_hd16_window", 9, 9, 4, 4, 16, 4},
  };
}

// the process's cuDNN handle, as the backend and the op table use
cudnnHandle_t handle() { return cuda::process_cudnn_handle(); }

// Skips without a device, and where cuDNN's fused attention does not run
// (the device or this build), saying why.
#define SKIP_WITHOUT_CUDNN_ATTENTION(shape)                                       \
  do {                                                                            \
    SKIP_WITHOUT_DEVICE();                                                        \
    int dev_ = 0;                                                                 \
    GP_CUDA_CHECK(cudaGetDevice(&dev_));                                          \
    const std::string why_cudnn_ = cuda::attention_cudnn_unsupported(shape, dev_); \
    if (!why_cudnn_.empty()) GTEST_SKIP() << why_cudnn_;                          \
  } while (0)

#ifdef GOLDPATH_HAVE_CUDNN
// out (T,Hq,hd) of attention_prefill_cudnn on caches of S + kCachePad rows (NaN after S)
std::vector<float> run_cudnn(const Prepared& p) {
  const Case& c = p.c;
  const Caches caches(p);
  DevBuf q(p.q.size() * 2), out(p.want.size() * 2);
  upload_f16(q.p, to_f16(p.q));
  size_t wsb = 0;
  const std::string why = cuda::attention_prefill_cudnn_plan(c.T, c.S - c.T, shape_of(c), handle(), &wsb);
  // the device and shape are supported (checked by the caller): a refusal here is a finding
  if (!why.empty()) throw Error("cuDNN refused a shape it should run: " + why);
  DevBuf ws(wsb);
  cuda::attention_prefill_cudnn(out.h(), q.h(), caches.k.h(), caches.v.h(), c.T, c.S - c.T, shape_of(c), ws.p, wsb,
                                handle(), nullptr);
  return from_f16(download_f16(out.p, p.want.size()));
}
#endif

class CudnnAttention : public ::testing::TestWithParam<Case> {};

TEST_P(CudnnAttention, MatchesReferenceAndRepeatsBitwise) {
  SKIP_WITHOUT_CUDNN_ATTENTION(shape_of(GetParam()));
#ifdef GOLDPATH_HAVE_CUDNN
  const Prepared p = prepare(GetParam(), 4321);
  const Case& c = p.c;
  const std::vector<float> got = run_cudnn(p);
  EXPECT_TRUE(close("cuDNN attention " + c.label, got, p.want, {c.T, c.Hq, c.hd}, p.bound(p.want, p.lowp)));
  EXPECT_EQ(run_cudnn(p), got) << "a second run (cached plan) gave other bits";
#endif
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudnnAttention, ::testing::ValuesIn(cases()), case_name);

TEST(CudnnAttentionDevice, RefusalsCarryTheReason) {
  SKIP_WITHOUT_CUDNN_ATTENTION((cuda::AttentionShape{4, 2, 64, 0}));
#ifdef GOLDPATH_HAVE_CUDNN
  const cuda::AttentionShape bad{4, 2, 20, 0};
  size_t wsb = 123;
  const std::string why = cuda::attention_prefill_cudnn_plan(8, 0, bad, handle(), &wsb);
  EXPECT_TRUE(has(why, "head size 20")) << why;
  EXPECT_EQ(wsb, 0u);
  half* d = nullptr;
  try {
    cuda::attention_prefill_cudnn(d, d, d, d, 8, 0, bad, nullptr, 0, handle(), nullptr);
    ADD_FAILURE() << "no error for head size 20";
  } catch (const Error& e) {
    EXPECT_TRUE(has(e.what(), "head size 20")) << e.what();
  }
  // a workspace smaller than the plan's is refused
  const cuda::AttentionShape ok{4, 2, 64, 0};
  ASSERT_EQ(cuda::attention_prefill_cudnn_plan(16, 3, ok, handle(), &wsb), "");
  if (wsb > 0) {
    DevBuf q(16 * 4 * 64 * 2), kv(19 * 2 * 64 * 2), out(16 * 4 * 64 * 2);
    EXPECT_THROW(cuda::attention_prefill_cudnn(out.h(), q.h(), kv.h(), kv.h(), 16, 3, ok, q.p, wsb - 1, handle(),
                                               nullptr),
                 Error);
  }
#endif
}

}  // namespace
}  // namespace gp
