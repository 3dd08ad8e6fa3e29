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

namespace gp {
namespace {

// ---- helpers ------------------------------------------------------------

// Device memory owned by the test.
struct DevBuf {
  void* p = nullptr;
  explicit DevBuf(size_t bytes) { GP_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(bytes, 16))); }
  ~DevBuf() { cudaFree(p); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  half* h() const { return static_cast<half*>(p); }
  float* f() const { return static_cast<float*>(p); }
  int* i() const { return static_cast<int*>(p); }
};

constexpr uint16_t kHalfNaN = 0x7e00;
// cache rows past the live context: NaN, so a kernel reading them shows NaNs
constexpr int kCachePad = 37;

std::vector<uint16_t> to_half(const std::vector<float>& x) {
  std::vector<uint16_t> r(x.size());
  for (size_t i = 0; i < x.size(); i++) r[i] = f32_to_f16(x[i]);
  return r;
}
std::vector<float> from_half(const std::vector<uint16_t>& x) {
  std::vector<float> r(x.size());
  for (size_t i = 0; i < x.size(); i++) r[i] = f16_to_f32(x[i]);
  return r;
}
std::vector<float> round_half(const std::vector<float>& x) { return from_half(to_half(x)); }

void upload(void* dst, const std::vector<uint16_t>& x) {
  GP_CUDA_CHECK(cudaMemcpy(dst, x.data(), x.size() * 2, cudaMemcpyHostToDevice));
}
std::vector<uint16_t> download(const void* src, size_t n) {
  std::vector<uint16_t> r(n);
  GP_CUDA_CHECK(cudaDeviceSynchronize());
  GP_CUDA_CHECK(cudaMemcpy(r.data(), src, n * 2, cudaMemcpyDeviceToHost));
  return r;
}

// got vs want (row-major `shape`) within `bound`: the first mismatches with
// their index, then one summary line.
::testing::AssertionResult close(const std::string& what, const std::vector<float>& got,
                                 const std::vector<float>& want, const std::vector<int64_t>& shape,
                                 double bound) {
  const ErrorStats e = compare(got.data(), want.data(), (int64_t)want.size());
  const std::string summary =
      str(what, ": max abs ", e.max_abs, " at ", format_index(e.max_abs_at, shape), ", max rel ",
          e.max_rel, ", nmse ", e.nmse, ", ", 100.0 * e.max_abs / bound, "% of tolerance ", bound,
          ", ", e.non_finite, " non-finite");
  if (e.non_finite == 0 && e.max_abs <= bound) return ::testing::AssertionSuccess() << summary;
  auto r = ::testing::AssertionFailure();
  for (int64_t i : first_mismatches(got.data(), want.data(), (int64_t)want.size(), bound, 8))
    r << "  " << format_index(i, shape) << ": got " << got[i] << ", want " << want[i] << "\n";
  return r << summary;
}

std::vector<float> slice(const std::vector<float>& x, size_t begin, size_t n) {
  return std::vector<float>(x.begin() + begin, x.begin() + begin + n);
}
double max_abs(const std::vector<float>& x) {
  double m = 0;
  for (float v : x) m = std::max(m, (double)std::fabs(v));
  return m;
}

// ---- cases ----------------------------------------------------------------

struct Case {
  std::string label;
  int T, S, Hq, Hkv, hd, window;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.label << " (T " << c.T << ", S " << c.S << ", Hq " << c.Hq << ", Hkv " << c.Hkv << ", hd "
      << c.hd << ", window " << c.window << ")";
}

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

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.label;
  for (char& c : n)
    if (!std::isalnum((unsigned char)c)) c = '_';
  return n;
}

// Inputs from the registry's generator, the reference output on float32
// inputs, and the tolerance: the registry's f16 tolerance applied to the
// error of a plain low-precision attention (the reference run on inputs and
// output rounded to f16), the noise any f16-storage implementation has.
struct Prepared {
  Case c;
  std::vector<float> q, k, v;  // (T,Hq,hd), (S,Hkv,hd), (S,Hkv,hd)
  std::vector<float> want;     // (T,Hq,hd)
  Tolerance tol;
  std::vector<float> lowp;     // (T,Hq,hd)
  // tolerance for part of the output: from the low-precision error on that part
  double bound(const std::vector<float>& want_part, const std::vector<float>& lowp_part) const {
    const ErrorStats e = compare(lowp_part.data(), want_part.data(), (int64_t)want_part.size());
    return tol.bound(e.max_abs, max_abs(want_part));
  }
};

Prepared prepare(const Case& c) {
  const OpSpec* spec = find_op("attention");
  OpShape sh{c.label, {{"T", c.T}, {"S", c.S}, {"Hq", c.Hq}, {"Hkv", c.Hkv}, {"hd", c.hd}, {"window", c.window}}};
  OpArgs a;
  spec->make_inputs(sh, 1234, a);
  Prepared p{c, a.in("q").f, a.in("k").f, a.in("v").f, {}, spec->tolerance.at(DType::F16), {}};
  const int64_t n_out = (int64_t)c.T * c.Hq * c.hd;
  p.want.resize(n_out);
  p.lowp.resize(n_out);
  ref::attention(p.want.data(), p.q.data(), p.k.data(), p.v.data(), c.T, c.S, c.Hq, c.Hkv, c.hd,
                 c.S - c.T, c.window);
  const std::vector<float> q16 = round_half(p.q), k16 = round_half(p.k), v16 = round_half(p.v);
  ref::attention(p.lowp.data(), q16.data(), k16.data(), v16.data(), c.T, c.S, c.Hq, c.Hkv, c.hd,
                 c.S - c.T, c.window);
  p.lowp = round_half(p.lowp);
  return p;
}

// K and V caches of S + kCachePad rows: the inputs, then NaN rows.
struct Caches {
  int cap;
  DevBuf k, v;
  Caches(const Prepared& p)
      : cap(p.c.S + kCachePad),
        k((size_t)cap * p.c.Hkv * p.c.hd * 2),
        v((size_t)cap * p.c.Hkv * p.c.hd * 2) {
    const size_t row = (size_t)p.c.Hkv * p.c.hd;
    std::vector<uint16_t> hk(cap * row, kHalfNaN), hv(cap * row, kHalfNaN);
    const std::vector<uint16_t> k16 = to_half(p.k), v16 = to_half(p.v);
    std::copy(k16.begin(), k16.end(), hk.begin());
    std::copy(v16.begin(), v16.end(), hv.begin());
    upload(k.p, hk);
    upload(v.p, hv);
  }
};

cuda::AttentionShape shape_of(const Case& c) { return {c.Hq, c.Hkv, c.hd, c.window}; }

std::vector<float> run_prefill(const Prepared& p, const Caches& caches) {
  const Case& c = p.c;
  DevBuf q(p.q.size() * 2), out(p.want.size() * 2);
  upload(q.p, to_half(p.q));
  cuda::attention_prefill(out.h(), q.h(), caches.k.h(), caches.v.h(), c.T, c.S - c.T, shape_of(c),
                          nullptr);
  return from_half(download(out.p, p.want.size()));
}

// the last query row (position S-1) through attention_decode
std::vector<float> run_decode(const Prepared& p, const Caches& caches, int max_ctx) {
  const Case& c = p.c;
  const size_t n = (size_t)c.Hq * c.hd;
  const std::vector<float> q_last = slice(p.q, p.q.size() - n, n);
  DevBuf q(n * 2), out(n * 2), pos(sizeof(int));
  DevBuf partials(cuda::attention_decode_partials_bytes(shape_of(c), max_ctx));
  upload(q.p, to_half(q_last));
  const int pos0 = c.S - 1;
  GP_CUDA_CHECK(cudaMemcpy(pos.p, &pos0, sizeof(int), cudaMemcpyHostToDevice));
  cuda::attention_decode(out.h(), q.h(), caches.k.h(), caches.v.h(), pos.i(), max_ctx,
                         shape_of(c), partials.f(), nullptr);
  return from_half(download(out.p, n));
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
  const std::vector<float> k = round_half(a.in("k").f), v = round_half(a.in("v").f);
  DevBuf kc(cap * row * 2), vc(cap * row * 2), kn(row * 2), vn(row * 2), q(qn * 2), out(qn * 2),
      pos(sizeof(int)), direct(qn * 2);
  const cuda::AttentionShape s = shape_of(c);
  DevBuf partials(cuda::attention_decode_partials_bytes(s, cap));
  upload(kc.p, std::vector<uint16_t>(cap * row, kHalfNaN));
  upload(vc.p, std::vector<uint16_t>(cap * row, kHalfNaN));
  {
    DevBuf kp(prefix * row * 2), vp(prefix * row * 2);
    upload(kp.p, to_half(slice(k, 0, prefix * row)));
    upload(vp.p, to_half(slice(v, 0, prefix * row)));
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
      upload(kn.p, to_half(slice(k, j * row, row)));
      upload(vn.p, to_half(slice(v, j * row, row)));
      cuda::kv_write(kc.h(), vc.h(), kn.h(), vn.h(), 1, j, nullptr, c.Hkv, c.hd, nullptr);
      GP_CUDA_CHECK(cudaDeviceSynchronize());
    }
    std::vector<float> qv(qn);
    for (float& x : qv) x = u(g);
    qv = round_half(qv);
    upload(q.p, to_half(qv));
    upload(kn.p, to_half(slice(k, p * row, row)));
    upload(vn.p, to_half(slice(v, p * row, row)));
    GP_CUDA_CHECK(cudaMemcpy(pos.p, &p, sizeof(int), cudaMemcpyHostToDevice));
    GP_CUDA_CHECK(cudaGraphLaunch(exec, st));
    GP_CUDA_CHECK(cudaStreamSynchronize(st));
    const std::vector<uint16_t> raw = download(out.p, qn);
    const std::vector<float> got = from_half(raw);

    std::vector<float> want(qn);
    ref::attention(want.data(), qv.data(), k.data(), v.data(), 1, p + 1, c.Hq, c.Hkv, c.hd, p, 0);
    const double bound = spec->tolerance.at(DType::F16).bound(0.0, max_abs(want));
    EXPECT_TRUE(close(str("graph replay at position ", p), got, want, {c.Hq, c.hd}, bound));

    cuda::attention_decode(direct.h(), q.h(), kc.h(), vc.h(), pos.i(), cap, s, partials.f(), nullptr);
    EXPECT_EQ(download(direct.p, qn), raw) << "direct launch at position " << p;
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
  upload(kc.p, std::vector<uint16_t>(cap * row, kHalfNaN));
  upload(vc.p, std::vector<uint16_t>(cap * row, kHalfNaN));
  std::vector<uint16_t> hk(3 * row), hv(3 * row);
  for (size_t i = 0; i < hk.size(); i++) {
    hk[i] = f32_to_f16((float)i);  // small integers: exact in f16
    hv[i] = f32_to_f16(-(float)i);
  }
  upload(k.p, hk);
  upload(v.p, hv);
  cuda::kv_write(kc.h(), vc.h(), k.h(), v.h(), 3, 5, nullptr, Hkv, hd, nullptr);
  const int p = 11;
  GP_CUDA_CHECK(cudaMemcpy(pos.p, &p, sizeof(int), cudaMemcpyHostToDevice));
  cuda::kv_write(kc.h(), vc.h(), k.h(), v.h(), 2, -1, pos.i(), Hkv, hd, nullptr);
  const std::vector<uint16_t> gk = download(kc.p, cap * row), gv = download(vc.p, cap * row);
  for (int r = 0; r < cap; r++)
    for (size_t i = 0; i < row; i++) {
      uint16_t wk = kHalfNaN, wv = kHalfNaN;
      if (r >= 5 && r < 8) wk = hk[(r - 5) * row + i], wv = hv[(r - 5) * row + i];
      if (r >= 11 && r < 13) wk = hk[(r - 11) * row + i], wv = hv[(r - 11) * row + i];
      ASSERT_EQ(gk[r * row + i], wk) << "k row " << r << " element " << i;
      ASSERT_EQ(gv[r * row + i], wv) << "v row " << r << " element " << i;
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
