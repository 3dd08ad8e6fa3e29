// elementwise_test.cpp: the CUDA elementwise ops (kernels/elementwise.cu)
// against the reference (reference/ops.h) on the registry's shapes (odd tail
// shapes and real model shapes) with its seeded inputs: embedding bit for bit
// for every stored dtype and with bad ids, rmsnorm (f32 and f16 input), rope
// (positions array and device pos0), swiglu (plain and fused gate_up
// layout), add_residual, softmax, the f32 <-> f16 conversions, and bitwise
// determinism of the reductions. f16 inputs are rounded to f16 on both sides.
// Device tests skip without a CUDA device, saying why; argument checks run
// everywhere (they throw before any CUDA call).
#include <cuda_fp16.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/kernels/device_util.h"
#include "tests/kernels/skip.h"
#include "core/error.h"
#include "core/metrics.h"
#include "core/ops.h"
#include "core/quant.h"
#include "core/rope.h"
#include "core/tolerance.h"
#include "kernels/cuda_check.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "reference/ops.h"

namespace gp {
namespace {

// ---- device memory ---------------------------------------------------------

using gptest::Dev;
using gptest::from_f16;
using gptest::round_f16;
using gptest::to_f16;

// ---- comparison ------------------------------------------------------------

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); i++) os << (i ? ", " : "") << shape[i];
  os << ")";
  return os.str();
}

// got vs want within tol.bound(0, max|want|): the first mismatches with their
// index, then one summary line
::testing::AssertionResult close(const std::string& what, const std::vector<int64_t>& shape,
                                 const std::vector<float>& got, const std::vector<float>& want,
                                 const Tolerance& tol) {
  const int64_t n = (int64_t)want.size();
  if ((int64_t)got.size() != n) return ::testing::AssertionFailure() << what << ": size differs";
  double max_want = 0;
  for (float w : want) max_want = std::max(max_want, (double)std::fabs(w));
  const double bound = tol.bound(0.0, max_want);
  const ErrorStats e = compare(got.data(), want.data(), n);
  if (e.non_finite == 0 && e.max_abs <= bound) return ::testing::AssertionSuccess();
  auto f = ::testing::AssertionFailure();
  f << what << " " << shape_str(shape) << ":\n";
  for (int64_t i : first_mismatches(got.data(), want.data(), n, bound, 6))
    f << "  at " << format_index(i, shape) << ": got " << got[i] << ", want " << want[i] << "\n";
  f << "  max abs " << e.max_abs << " at " << format_index(e.max_abs_at, shape) << ", max rel "
    << e.max_rel << ", nmse " << e.nmse << ", non-finite " << e.non_finite << ", "
    << 100.0 * e.max_abs / bound << "% of tolerance " << bound << " (" << tol.reason << ")";
  return f;
}

::testing::AssertionResult bitwise(const std::string& what, const std::vector<int64_t>& shape,
                                   const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < want.size(); i++) {
    uint32_t a, b;
    std::memcpy(&a, &got[i], 4);
    std::memcpy(&b, &want[i], 4);
    if (a != b)
      return ::testing::AssertionFailure()
             << what << " " << shape_str(shape) << ": first difference at "
             << format_index((int64_t)i, shape) << ": got " << got[i] << ", want " << want[i];
  }
  return ::testing::AssertionSuccess();
}

const OpSpec& op(const char* name) {
  const OpSpec* s = find_op(name);
  if (!s) throw Error(str("op '", name, "' is not registered"));
  return *s;
}

std::string label(const OpShape& sh) { return sh.label + " " + dtype_name(sh.wtype); }

// ---- embedding -------------------------------------------------------------

cuda::DeviceWeight device_weight(const HostTensor& w, const Dev<uint8_t>& d) {
  cuda::DeviceWeight dw;
  dw.dtype = w.dtype;
  dw.data = d.get();
  dw.rows = w.shape[0];
  dw.cols = w.shape[1];
  return dw;
}

TEST(CudaEmbedding, BitIdenticalToReferenceForEveryDtype) {
  SKIP_WITHOUT_DEVICE();
  for (const OpShape& sh : op("embedding").shapes) {
    OpArgs a;
    op("embedding").make_inputs(sh, 11, a);
    const HostTensor& table = a.in("table");
    const std::vector<int32_t>& ids = a.in("ids").i;
    const int64_t V = table.shape[0], D = table.shape[1], T = (int64_t)ids.size();
    std::vector<float> want(T * D);
    ref::embedding(want.data(), table.dtype, table.raw.data(), ids.data(), T, V, D);
    Dev<uint8_t> d_table(table.raw);
    Dev<int32_t> d_ids(ids);
    Dev<float> d_out(T * D);
    Dev<int> d_bad(std::vector<int>{0});
    cuda::embedding(d_out.get(), device_weight(table, d_table), d_ids.get(), (int)T, d_bad.get(), nullptr);
    EXPECT_TRUE(bitwise("embedding " + label(sh), {T, D}, d_out.download(), want));
    EXPECT_EQ(d_bad.download()[0], 0) << label(sh);
  }
}

TEST(CudaEmbedding, BadIdsWriteNaNRowsAndNameTheFirstRow) {
  SKIP_WITHOUT_DEVICE();
  OpArgs a;
  const OpShape& sh = op("embedding").shapes[0];
  op("embedding").make_inputs(sh, 3, a);
  const HostTensor& table = a.in("table");
  const int64_t V = table.shape[0], D = table.shape[1];
  const std::vector<int32_t> ids = {1, (int32_t)V, 2, -1, 0};  // rows 1 and 3 are bad
  Dev<uint8_t> d_table(table.raw);
  Dev<int32_t> d_ids(ids);
  Dev<float> d_out(ids.size() * D);
  Dev<int> d_bad(std::vector<int>{0});
  cuda::embedding(d_out.get(), device_weight(table, d_table), d_ids.get(), (int)ids.size(), d_bad.get(),
                  nullptr);
  const std::vector<float> out = d_out.download();
  EXPECT_EQ(d_bad.download()[0], 2) << "1 + the first bad row";
  for (int64_t t = 0; t < (int64_t)ids.size(); t++) {
    const bool bad = ids[t] < 0 || ids[t] >= V;
    for (int64_t j = 0; j < D; j++)
      ASSERT_EQ(std::isnan(out[t * D + j]), bad) << "row " << t << " column " << j;
  }
  // a null bad_id is allowed
  cuda::embedding(d_out.get(), device_weight(table, d_table), d_ids.get(), (int)ids.size(), nullptr, nullptr);
  GP_CUDA_CHECK(cudaDeviceSynchronize());
}

TEST(CudaEmbedding, RejectsPartialBlocksBeforeLaunching) {
  cuda::DeviceWeight w;
  w.dtype = DType::Q4_0;
  w.rows = 10;
  w.cols = 40;  // not a multiple of 32
  EXPECT_THROW(cuda::embedding(nullptr, w, nullptr, 1, nullptr, nullptr), Error);
}

// ---- rmsnorm ---------------------------------------------------------------

TEST(CudaRmsnorm, MatchesReferenceFromF32AndF16Input) {
  SKIP_WITHOUT_DEVICE();
  for (const OpShape& sh : op("rmsnorm").shapes) {
    OpArgs a;
    op("rmsnorm").make_inputs(sh, 5, a);
    const HostTensor& x = a.in("x");
    const std::vector<float>& w = a.in("weight").f;
    const int64_t T = x.shape[0], D = x.shape[1];
    const double eps = a.param("eps");
    // f32 input: the reference sees x itself
    std::vector<float> want(T * D);
    ref::rmsnorm(want.data(), x.f.data(), w.data(), T, D, eps);
    Dev<float> d_x(x.f), d_w(w);
    Dev<uint16_t> d_out(T * D);
    cuda::rmsnorm(d_out.as_half(), d_x.get(), nullptr, d_w.get(), (int)T, (int)D, (float)eps, nullptr);
    EXPECT_TRUE(close("rmsnorm f32 in " + sh.label, {T, D}, from_f16(d_out.download()), want,
                      kHalfStorageVsReference));
    // f16 input: both sides see x rounded to f16
    const std::vector<uint16_t> x16 = to_f16(x.f);
    const std::vector<float> xr = from_f16(x16);
    ref::rmsnorm(want.data(), xr.data(), w.data(), T, D, eps);
    Dev<uint16_t> d_x16(x16);
    cuda::rmsnorm(d_out.as_half(), nullptr, d_x16.as_half(), d_w.get(), (int)T, (int)D, (float)eps, nullptr);
    EXPECT_TRUE(close("rmsnorm f16 in " + sh.label, {T, D}, from_f16(d_out.download()), want,
                      kHalfStorageVsReference));
  }
}

TEST(CudaRmsnorm, SameBitsEveryRun) {
  SKIP_WITHOUT_DEVICE();
  for (const OpShape& sh : op("rmsnorm").shapes) {
    OpArgs a;
    op("rmsnorm").make_inputs(sh, 6, a);
    const int64_t T = a.in("x").shape[0], D = a.in("x").shape[1];
    Dev<float> d_x(a.in("x").f), d_w(a.in("weight").f);
    Dev<uint16_t> d_out(T * D);
    cuda::rmsnorm(d_out.as_half(), d_x.get(), nullptr, d_w.get(), (int)T, (int)D, 1e-5f, nullptr);
    const std::vector<uint16_t> first = d_out.download();
    for (int run = 0; run < 3; run++) {
      cuda::rmsnorm(d_out.as_half(), d_x.get(), nullptr, d_w.get(), (int)T, (int)D, 1e-5f, nullptr);
      ASSERT_EQ(d_out.download(), first) << sh.label << " run " << run;
    }
  }
}

// ---- rope ------------------------------------------------------------------

TEST(CudaRope, MatchesReferenceAtGivenPositions) {
  SKIP_WITHOUT_DEVICE();
  for (const OpShape& sh : op("rope").shapes) {
    OpArgs a;
    op("rope").make_inputs(sh, 8, a);
    const HostTensor& x = a.in("x");
    const std::vector<int32_t>& pos = a.in("positions").i;
    const int64_t T = x.shape[0], H = x.shape[1], hd = x.shape[2];
    const double theta = a.param("theta");
    const std::vector<uint16_t> x16 = to_f16(x.f);
    const std::vector<float> xr = from_f16(x16);
    std::vector<float> want(xr.size());
    ref::rope(want.data(), xr.data(), pos.data(), T, H, hd, theta);
    Dev<uint16_t> d_x(x16);
    Dev<int32_t> d_pos(pos);
    Dev<float> d_inv(rope_inv_freq(hd, theta));
    cuda::rope(d_x.as_half(), d_pos.get(), nullptr, d_inv.get(), (int)T, (int)H, (int)hd, nullptr);
    EXPECT_TRUE(close("rope " + sh.label, {T, H, hd}, from_f16(d_x.download()), want, kHalfStorageVsReference));
  }
}

TEST(CudaRope, DevicePos0EqualsConsecutivePositions) {
  SKIP_WITHOUT_DEVICE();
  const int T = 3, H = 5, hd = 96, pos0 = 4093;
  std::mt19937_64 g(2);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(T * H * hd);
  for (float& v : x) v = u(g);
  const std::vector<uint16_t> x16 = to_f16(x);
  std::vector<int32_t> pos;
  for (int t = 0; t < T; t++) pos.push_back(pos0 + t);
  Dev<float> d_inv(rope_inv_freq(hd, 10000.0));
  Dev<uint16_t> d_a(x16), d_b(x16);
  Dev<int32_t> d_pos(pos);
  Dev<int> d_pos0(std::vector<int>{pos0});
  cuda::rope(d_a.as_half(), d_pos.get(), nullptr, d_inv.get(), T, H, hd, nullptr);
  cuda::rope(d_b.as_half(), nullptr, d_pos0.get(), d_inv.get(), T, H, hd, nullptr);
  EXPECT_EQ(d_a.download(), d_b.download());
}

TEST(CudaRope, RejectsUnsupportedHeadSizesBeforeLaunching) {
  EXPECT_THROW(cuda::rope(nullptr, nullptr, nullptr, nullptr, 1, 1, 258, nullptr), Error);
  EXPECT_THROW(cuda::rope(nullptr, nullptr, nullptr, nullptr, 1, 1, 63, nullptr), Error);
}

// ---- swiglu, add_residual ----------------------------------------------------

TEST(CudaSwiglu, MatchesReferencePlainAndFusedLayout) {
  SKIP_WITHOUT_DEVICE();
  for (const OpShape& sh : op("swiglu").shapes) {
    OpArgs a;
    op("swiglu").make_inputs(sh, 9, a);
    const int64_t T = a.in("gate").shape[0], F = a.in("gate").shape[1];
    const std::vector<uint16_t> g16 = to_f16(a.in("gate").f), u16 = to_f16(a.in("up").f);
    const std::vector<float> gr = from_f16(g16), ur = from_f16(u16);
    std::vector<float> want(T * F);
    ref::swiglu(want.data(), gr.data(), ur.data(), T * F);
    // plain: gate and up are separate (T, F) tensors
    Dev<uint16_t> d_g(g16), d_u(u16), d_out(T * F);
    cuda::swiglu(d_out.as_half(), d_g.as_half(), d_u.as_half(), (int)T, (int)F, F, nullptr);
    EXPECT_TRUE(close("swiglu " + sh.label, {T, F}, from_f16(d_out.download()), want, kHalfStorageVsReference));
    // fused: one (T, 2F) tensor, gate in the first F columns
    std::vector<uint16_t> gu(T * 2 * F);
    for (int64_t t = 0; t < T; t++)
      for (int64_t f = 0; f < F; f++) gu[t * 2 * F + f] = g16[t * F + f], gu[t * 2 * F + F + f] = u16[t * F + f];
    Dev<uint16_t> d_gu(gu), d_out2(T * F);
    cuda::swiglu(d_out2.as_half(), d_gu.as_half(), d_gu.as_half() + F, (int)T, (int)F, 2 * F, nullptr);
    EXPECT_EQ(d_out2.download(), d_out.download()) << "fused layout differs, " << sh.label;
  }
}

TEST(CudaAddResidual, BitIdenticalToReferenceAdd) {
  SKIP_WITHOUT_DEVICE();
  for (const OpShape& sh : op("add").shapes) {
    OpArgs a;
    op("add").make_inputs(sh, 4, a);
    const std::vector<float>& r = a.in("a").f;
    const std::vector<uint16_t> d16 = to_f16(a.in("b").f);
    const std::vector<float> dr = from_f16(d16);
    const int64_t n = (int64_t)r.size();
    std::vector<float> want(n);
    ref::add(want.data(), r.data(), dr.data(), n);
    Dev<float> d_r(r);
    Dev<uint16_t> d_d(d16);
    cuda::add_residual(d_r.get(), d_d.as_half(), n, nullptr);
    EXPECT_TRUE(bitwise("add_residual " + sh.label, a.in("a").shape, d_r.download(), want));
  }
}

// ---- softmax -----------------------------------------------------------------

TEST(CudaSoftmax, MatchesReferenceAndSameBitsEveryRun) {
  SKIP_WITHOUT_DEVICE();
  for (const OpShape& sh : op("softmax").shapes) {
    OpArgs a;
    op("softmax").make_inputs(sh, 10, a);
    const HostTensor& x = a.in("x");
    const int64_t T = x.shape[0], N = x.shape[1];
    std::vector<float> want(T * N);
    ref::softmax(want.data(), x.f.data(), T, N);
    Dev<float> d_x(x.f), d_out(T * N);
    cuda::softmax(d_out.get(), d_x.get(), (int)T, (int)N, nullptr);
    const std::vector<float> got = d_out.download();
    EXPECT_TRUE(close("softmax " + sh.label, {T, N}, got, want, kFloatReductionVsReference));
    cuda::softmax(d_out.get(), d_x.get(), (int)T, (int)N, nullptr);
    EXPECT_TRUE(bitwise("softmax rerun " + sh.label, {T, N}, d_out.download(), got));
  }
}

TEST(CudaSoftmax, LargeAndMaskedLogits) {
  SKIP_WITHOUT_DEVICE();
  // max subtraction keeps exp finite; -inf (masked) entries get probability 0
  const int N = 1000;
  std::vector<float> x(N);
  for (int i = 0; i < N; i++) x[i] = i % 7 == 0 ? -INFINITY : 80.0f + 0.01f * (float)(i % 13);
  std::vector<float> want(N);
  ref::softmax(want.data(), x.data(), 1, N);
  Dev<float> d_x(x), d_out(N);
  cuda::softmax(d_out.get(), d_x.get(), 1, N, nullptr);
  const std::vector<float> got = d_out.download();
  EXPECT_TRUE(close("softmax large/masked", {1, N}, got, want, kFloatReductionVsReference));
  for (int i = 0; i < N; i += 7) EXPECT_EQ(got[i], 0.0f) << i;
}

// ---- conversions ---------------------------------------------------------------

TEST(CudaConvert, F32ToF16AndBackBitIdenticalToCoreQuant) {
  SKIP_WITHOUT_DEVICE();
  // every f16 bit pattern, their midpoints (ties to even), overflow, subnormals
  std::vector<float> x;
  for (uint32_t h = 0; h < 0x10000u; h++) {
    const float v = f16_to_f32((uint16_t)h);
    x.push_back(v);
    if ((h & 0x7c00u) != 0x7c00u && (h & 0x7fffu) != 0x7bffu) {
      const float next = f16_to_f32((uint16_t)(h + 1));
      x.push_back(v + (next - v) / 2);
    }
  }
  for (float v : {65519.0f, 65520.0f, 1e9f, -1e9f, 1e-8f, -3e-8f, 2.9802322e-8f}) x.push_back(v);
  const int64_t n = (int64_t)x.size();
  std::vector<uint16_t> want16(n);
  for (int64_t i = 0; i < n; i++) want16[i] = f32_to_f16(x[i]);
  Dev<float> d_x(x), d_back(n);
  Dev<uint16_t> d_h(n);
  cuda::f32_to_f16(d_h.as_half(), d_x.get(), n, nullptr);
  const std::vector<uint16_t> got16 = d_h.download();
  int64_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    // NaN payloads may differ; any NaN is a NaN
    const bool nan_both = std::isnan(x[i]) && (got16[i] & 0x7c00u) == 0x7c00u && (got16[i] & 0x3ffu);
    if (got16[i] != want16[i] && !nan_both && bad++ < 5)
      ADD_FAILURE() << "f32_to_f16(" << x[i] << "): got 0x" << std::hex << got16[i] << ", want 0x" << want16[i];
  }
  EXPECT_EQ(bad, 0);
  cuda::f16_to_f32(d_back.get(), d_h.as_half(), n, nullptr);
  const std::vector<float> back = d_back.download();
  for (int64_t i = 0; i < n; i++) {
    const float want = f16_to_f32(got16[i]);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(back[i])) << i;
      continue;
    }
    ASSERT_EQ(back[i], want) << "f16_to_f32(0x" << std::hex << got16[i] << ")";
  }
}

}  // namespace
}  // namespace gp
