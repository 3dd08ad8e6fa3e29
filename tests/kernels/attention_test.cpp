// attention_test.cpp: CUDA attention (kernels/attention.cu) against the
// reference gp::ref::attention on every registered attention shape plus long
// contexts that span many decode splits; decode against the last row of
// prefill; bitwise determinism; a decode step captured in a CUDA graph and
// replayed at several positions; kv_write. Skips without a CUDA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/ops.h"
#include "core/quant.h"
#include "kernels/cuda_check.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "reference/ops.h"
#include "tests/kernels/attention_cases.h"

namespace gp {
namespace {

// ---- helpers ------------------------------------------------------------

using namespace gptest;

std::vector<float> slice(const std::vector<float>& x, size_t begin, size_t n) {
  return std::vector<float>(x.begin() + begin, x.begin() + begin + n);
}

// ---- cases ----------------------------------------------------------------

std::vector<Case> cases() {
  std::vector<Case> r;
  for (const OpShape& sh : find_op("attention")->shapes) {
    auto d = [&](const char* n) { return (int)sh.dims.at(n); };
    r.push_back({sh.label, d("T"), d("S"), d("Hq"), d("Hkv"), d("hd"), d("window")});
  }
  // contexts over many decode splits, GQA 4:1, and the Phi-3 window (2047)
  r.push_back({"long/decode-4096", 1, 4097, 32, 8, 128, 0});
  r.push_back({"long/decode-4096-window", 1, 4097, 8, 8, 96, 2047});
  // a window that starts inside a key tile and crosses query tiles, after a cached prefix
  r.push_back({"odd/prefill-window-cached", 75, 300, 6, 2, 64, 100});
  // the generic path: smallest head, largest head (over 48 KiB of shared memory)
  r.push_back({"odd/hd8", 33, 50, 3, 1, 8, 0});
  r.push_back({"odd/hd256", 40, 45, 2, 1, 256, 7});
  return r;
}

std::vector<float> run_prefill(const Prepared& p, const Caches& caches) {
  const Case& c = p.c;
  DevBuf q(p.q.size() * 2), out(p.want.size() * 2);
  upload_f16(q.p, to_f16(p.q));
  cuda::attention_prefill(out.h(), q.h(), caches.k.h(), caches.v.h(), c.T, c.S - c.T, shape_of(c),
                          nullptr);
  return from_f16(download_f16(out.p, p.want.size()));
}

// the last query row (position S-1) through attention_decode
std::vector<float> run_decode(const Prepared& p, const Caches& caches, int max_ctx) {
  const Case& c = p.c;
  const size_t n = (size_t)c.Hq * c.hd;
  const std::vector<float> q_last = slice(p.q, p.q.size() - n, n);
  DevBuf q(n * 2), out(n * 2), pos(sizeof(int));
  DevBuf partials(cuda::attention_decode_partials_bytes(shape_of(c), max_ctx));
  upload_f16(q.p, to_f16(q_last));
  const int pos0 = c.S - 1;
  GP_CUDA_CHECK(cudaMemcpy(pos.p, &pos0, sizeof(int), cudaMemcpyHostToDevice));
  cuda::attention_decode(out.h(), q.h(), caches.k.h(), caches.v.h(), pos.i(), max_ctx,
                         shape_of(c), partials.f(), nullptr);
  return from_f16(download_f16(out.p, n));
}

class CudaAttention : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    std::string why;
    if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  }
};

// ---- tests ----------------------------------------------------------------

TEST_P(CudaAttention, PrefillMatchesReference) {
  const Prepared p = prepare(GetParam());
  const Caches caches(p);
  const std::vector<float> got = run_prefill(p, caches);
  const Case& c = p.c;
  EXPECT_TRUE(close("attention_prefill " + c.label, got, p.want, {c.T, c.Hq, c.hd},
                    p.bound(p.want, p.lowp)));
}

TEST_P(CudaAttention, DecodeMatchesReferenceAndPrefill) {
  const Prepared p = prepare(GetParam());
  const Caches caches(p);
  const Case& c = p.c;
  const size_t n = (size_t)c.Hq * c.hd, last = p.want.size() - n;
  const std::vector<float> want = slice(p.want, last, n), lowp = slice(p.lowp, last, n);
  const std::vector<float> got = run_decode(p, caches, caches.cap);
  EXPECT_TRUE(close("attention_decode " + c.label, got, want, {c.Hq, c.hd}, p.bound(want, lowp)));
  // decode and prefill differ only in f32 summation order before the f16
  // rounding: within the f16 floor (2 ulps) of the largest value
  const std::vector<float> pre = slice(run_prefill(p, caches), last, n);
  EXPECT_TRUE(close("decode vs last prefill row " + c.label, got, pre, {c.Hq, c.hd},
                    p.tol.bound(0.0, max_abs(pre))));
}

TEST_P(CudaAttention, BitwiseDeterministic) {
  const Prepared p = prepare(GetParam());
  const Caches caches(p);
  const Case& c = p.c;
  EXPECT_EQ(run_prefill(p, caches), run_prefill(p, caches)) << "prefill " << c.label;
  const std::vector<float> d = run_decode(p, caches, caches.cap);
  EXPECT_EQ(d, run_decode(p, caches, caches.cap)) << "decode " << c.label;
  // splits beyond the context are neutral: a larger grid gives the same bits
  EXPECT_EQ(d, run_decode(p, caches, c.S)) << "decode, max_ctx = context " << c.label;
  EXPECT_EQ(d, run_decode(p, caches, caches.cap + 5000)) << "decode, max_ctx + 5000 " << c.label;
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaAttention, ::testing::ValuesIn(cases()), case_name);

class CudaAttentionDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  }
};

// One decode step (kv_write at *d_pos0, then attention_decode) captured once
// and replayed at several positions equals the reference on the cache
// contents, and a direct launch bit for bit.
TEST_F(CudaAttentionDevice, ReplayFollowsDevicePosition) {
  const Case c{"graph", 1, 300, 9, 3, 64, 0};
  const int cap = 400, prefix = 200;
  const size_t row = (size_t)c.Hkv * c.hd, qn = (size_t)c.Hq * c.hd;
  const OpSpec* spec = find_op("attention");
  OpArgs a;
  spec->make_inputs({c.label, {{"T", 1}, {"S", cap}, {"Hq", c.Hq}, {"Hkv", c.Hkv}, {"hd", c.hd}, {"window", 0}}},
                    99, a);
  // rows of k and v rounded to f16: the cache holds exactly these values
  const std::vector<float> k = round_f16(a.in("k").f), v = round_f16(a.in("v").f);
  DevBuf kc(cap * row * 2), vc(cap * row * 2), kn(row * 2), vn(row * 2), q(qn * 2), out(qn * 2),
      pos(sizeof(int)), direct(qn * 2);
  const cuda::AttentionShape s = shape_of(c);
  DevBuf partials(cuda::attention_decode_partials_bytes(s, cap));
  upload_f16(kc.p, std::vector<uint16_t>(cap * row, kF16NaN));
  upload_f16(vc.p, std::vector<uint16_t>(cap * row, kF16NaN));
  {
    DevBuf kp(prefix * row * 2), vp(prefix * row * 2);
    upload_f16(kp.p, to_f16(slice(k, 0, prefix * row)));
    upload_f16(vp.p, to_f16(slice(v, 0, prefix * row)));
    cuda::kv_write(kc.h(), vc.h(), kp.h(), vp.h(), prefix, 0, nullptr, c.Hkv, c.hd, nullptr);
    GP_CUDA_CHECK(cudaDeviceSynchronize());
  }

  cudaStream_t st;
  GP_CUDA_CHECK(cudaStreamCreate(&st));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  GP_CUDA_CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
  cuda::kv_write(kc.h(), vc.h(), kn.h(), vn.h(), 1, -1, pos.i(), c.Hkv, c.hd, st);
  cuda::attention_decode(out.h(), q.h(), kc.h(), vc.h(), pos.i(), cap, s, partials.f(), st);
  GP_CUDA_CHECK(cudaStreamEndCapture(st, &graph));
  GP_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));

  std::mt19937_64 g(3);
  std::uniform_real_distribution<float> u(-1, 1);
  int pos_prev = prefix - 1;
  for (int p : {200, 201, 202, 255, 256, 257}) {
    // keys between the previous step and this one (a skipped position) are written directly
    for (int j = pos_prev + 1; j < p; j++) {
      upload_f16(kn.p, to_f16(slice(k, j * row, row)));
      upload_f16(vn.p, to_f16(slice(v, j * row, row)));
      cuda::kv_write(kc.h(), vc.h(), kn.h(), vn.h(), 1, j, nullptr, c.Hkv, c.hd, nullptr);
      GP_CUDA_CHECK(cudaDeviceSynchronize());
    }
    std::vector<float> qv(qn);
    for (float& x : qv) x = u(g);
    qv = round_f16(qv);
    upload_f16(q.p, to_f16(qv));
    upload_f16(kn.p, to_f16(slice(k, p * row, row)));
    upload_f16(vn.p, to_f16(slice(v, p * row, row)));
    GP_CUDA_CHECK(cudaMemcpy(pos.p, &p, sizeof(int), cudaMemcpyHostToDevice));
    GP_CUDA_CHECK(cudaGraphLaunch(exec, st));
    GP_CUDA_CHECK(cudaStreamSynchronize(st));
    const std::vector<uint16_t> raw = download_f16(out.p, qn);
    const std::vector<float> got = from_f16(raw);

    std::vector<float> want(qn);
    ref::attention(want.data(), qv.data(), k.data(), v.data(), 1, p + 1, c.Hq, c.Hkv, c.hd, p, 0);
    const double bound = spec->tolerance.at(DType::F16).bound(0.0, max_abs(want));
    EXPECT_TRUE(close(str("graph replay at position ", p), got, want, {c.Hq, c.hd}, bound));

    cuda::attention_decode(direct.h(), q.h(), kc.h(), vc.h(), pos.i(), cap, s, partials.f(), nullptr);
    EXPECT_EQ(download_f16(direct.p, qn), raw) << "direct launch at position " << p;
    pos_prev = p;
  }
  GP_CUDA_CHECK(cudaGraphExecDestroy(exec));
  GP_CUDA_CHECK(cudaGraphDestroy(graph));
  GP_CUDA_CHECK(cudaStreamDestroy(st));
}

TEST_F(CudaAttentionDevice, KvWriteAtHostAndDevicePositions) {
  const int cap = 16, Hkv = 2, hd = 24;
  const size_t row = (size_t)Hkv * hd;
  DevBuf kc(cap * row * 2), vc(cap * row * 2), k(3 * row * 2), v(3 * row * 2), pos(sizeof(int));
  upload_f16(kc.p, std::vector<uint16_t>(cap * row, kF16NaN));
  upload_f16(vc.p, std::vector<uint16_t>(cap * row, kF16NaN));
  std::vector<uint16_t> hk(3 * row), hv(3 * row);
  for (size_t i = 0; i < hk.size(); i++) {
    hk[i] = f32_to_f16((float)i);  // small integers: exact in f16
    hv[i] = f32_to_f16(-(float)i);
  }
  upload_f16(k.p, hk);
  upload_f16(v.p, hv);
  cuda::kv_write(kc.h(), vc.h(), k.h(), v.h(), 3, 5, nullptr, Hkv, hd, nullptr);
  const int p = 11;
  GP_CUDA_CHECK(cudaMemcpy(pos.p, &p, sizeof(int), cudaMemcpyHostToDevice));
  cuda::kv_write(kc.h(), vc.h(), k.h(), v.h(), 2, -1, pos.i(), Hkv, hd, nullptr);
  const std::vector<uint16_t> gk = download_f16(kc.p, cap * row), gv = download_f16(vc.p, cap * row);
  for (int r = 0; r < cap; r++)
    for (size_t i = 0; i < row; i++) {
      uint16_t wk = kF16NaN, wv = kF16NaN;
      if (r >= 5 && r < 8) wk = hk[(r - 5) * row + i], wv = hv[(r - 5) * row + i];
      if (r >= 11 && r < 13) wk = hk[(r - 11) * row + i], wv = hv[(r - 11) * row + i];
      ASSERT_EQ(gk[r * row + i], wk) << "k row " << r << " element " << i;
      ASSERT_EQ(gv[r * row + i], wv) << "v row " << r << " element " << i;
    }
}

// A position at or past max_ctx (a caller's bug) reads nothing outside the
// caches, which here have exactly max_ctx rows, and gives NaN; the last split
// (keys 128..255 for max_ctx 130) once read up to the position, past the
// cache's end (caught on the simulated device under ASan, which makes every
// allocation exact-size, and by compute-sanitizer on a GPU).
TEST_F(CudaAttentionDevice, PositionPastTheCacheReadsNothingAndGivesNaN) {
  const cuda::AttentionShape s{2, 1, 64, 0};
  const int max_ctx = 130;
  const size_t row = (size_t)s.Hkv * s.hd, qn = (size_t)s.Hq * s.hd;
  std::vector<float> kv(max_ctx * row), q(qn);
  for (size_t i = 0; i < kv.size(); i++) kv[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
  for (size_t i = 0; i < q.size(); i++) q[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
  DevBuf k(kv.size() * 2), v(kv.size() * 2), dq(qn * 2), out(qn * 2), pos(sizeof(int));
  DevBuf partials(cuda::attention_decode_partials_bytes(s, max_ctx));
  upload_f16(k.p, to_f16(kv));
  upload_f16(v.p, to_f16(kv));
  upload_f16(dq.p, to_f16(q));
  for (int p : {max_ctx - 1, max_ctx, 200}) {
    GP_CUDA_CHECK(cudaMemcpy(pos.p, &p, sizeof(int), cudaMemcpyHostToDevice));
    cuda::attention_decode(out.h(), dq.h(), k.h(), v.h(), pos.i(), max_ctx, s, partials.f(), nullptr);
    const std::vector<float> o = from_f16(download_f16(out.p, qn));
    for (float x : o) {
      if (p < max_ctx) ASSERT_TRUE(std::isfinite(x)) << "position " << p;
      else ASSERT_TRUE(std::isnan(x)) << "position " << p << " is outside the cache of " << max_ctx;
    }
  }
}

TEST_F(CudaAttentionDevice, UnsupportedShapesThrow) {
  half* d = nullptr;
  auto prefill = [&](cuda::AttentionShape s) { cuda::attention_prefill(d, d, d, d, 4, 0, s, nullptr); };
  auto message = [](const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message([&] { prefill({4, 2, 20, 0}); }).find("head dim 20 unsupported"), std::string::npos);
  EXPECT_NE(message([&] { prefill({4, 2, 264, 0}); }).find("head dim 264 unsupported"), std::string::npos);
  EXPECT_NE(message([&] { prefill({5, 2, 64, 0}); }).find("not a positive multiple of 2 kv heads"),
            std::string::npos);
  EXPECT_NE(message([&] { prefill({4, 2, 64, -1}); }).find("sliding window -1"), std::string::npos);
  EXPECT_NE(message([&] { cuda::attention_decode_partials_bytes({4, 2, 64, 0}, 0); }).find("max_ctx 0"),
            std::string::npos);
  EXPECT_NE(message([&] { cuda::kv_write(d, d, d, d, 1, 0, nullptr, 2, 12, nullptr); }).find("multiple of 8"),
            std::string::npos);
}

}  // namespace
}  // namespace gp
