// linear_test.cpp: every CUDA linear version (kernels/linear.cu) against the
// reference (gp::ref::linear) on the same stored weight, for every weight
// dtype the kernels read: odd tail shapes, the registry's SmolLM2-135M and
// Phi-3-mini shapes, exact small-integer products, and bitwise determinism.
// x is rounded to f16 before both sides. Device tests skip without a CUDA
// device, saying why; argument checks run everywhere (they throw before any
// CUDA call).
#include <cublas_v2.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <ostream>
#include <vector>

#include "core/error.h"
#include "core/metrics.h"
#include "core/ops.h"
#include "core/quant.h"
#include "core/tolerance.h"
#include "kernels/cuda_check.h"
#include "tests/kernels/partial_grid.h"
#include "tests/kernels/skip.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "reference/ops.h"

namespace gp {
namespace {

using cuda::LinearAlgo;

constexpr LinearAlgo kAlgos[] = {LinearAlgo::Auto, LinearAlgo::Gemv, LinearAlgo::Mma,
                                 LinearAlgo::Cublas};
constexpr DType kDTypes[] = {DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1};

const char* algo_name(LinearAlgo a) {
  switch (a) {
    case LinearAlgo::Auto: return "Auto";
    case LinearAlgo::Gemv: return "Gemv";
    case LinearAlgo::Mma: return "Mma";
    case LinearAlgo::Cublas: return "Cublas";
  }
  return "?";
}

// ---- device memory and handles --------------------------------------------

struct DeviceFree {
  void operator()(void* p) const { cudaFree(p); }
};
using DevicePtr = std::unique_ptr<void, DeviceFree>;

DevicePtr device_alloc(size_t bytes) {
  void* p = nullptr;
  if (bytes) GP_CUDA_CHECK(cudaMalloc(&p, bytes));
  return DevicePtr(p);
}
DevicePtr device_upload(const void* src, size_t bytes) {
  DevicePtr p = device_alloc(bytes);
  GP_CUDA_CHECK(cudaMemcpy(p.get(), src, bytes, cudaMemcpyHostToDevice));
  return p;
}

// A stream and a cuBLAS handle bound to it, for one test.
struct Gpu {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  explicit Gpu(bool with_cublas = true) {
    GP_CUDA_CHECK(cudaStreamCreate(&stream));
    if (!with_cublas) return;
    if (cublasCreate(&cublas) != CUBLAS_STATUS_SUCCESS) fail("cublasCreate failed");
    if (cublasSetStream(cublas, stream) != CUBLAS_STATUS_SUCCESS) fail("cublasSetStream failed");
  }
  ~Gpu() {
    if (cublas) cublasDestroy(cublas);
    cudaStreamDestroy(stream);
  }
  Gpu(const Gpu&) = delete;
  Gpu& operator=(const Gpu&) = delete;
};

// ---- one problem: inputs, reference, device run -----------------------------

struct Problem {
  std::string label;
  int T = 0, N = 0, K = 0;
  DType dtype = DType::F16;
  std::vector<uint16_t> x_f16;  // (T,K) f16 bits
  std::vector<float> x;         // (T,K) the same values as f32
  std::vector<uint8_t> w;       // (N,K) stored as dtype
};

// Registry inputs for a shape (seeded, never all zeros), x rounded to f16.
Problem make_problem(const OpShape& sh) {
  const OpSpec* op = find_op("linear");
  GP_CHECK(op != nullptr, "op registry has no linear");
  OpArgs a;
  op->make_inputs(sh, 1234, a);
  Problem p;
  p.label = sh.label;
  p.T = (int)sh.dims.at("T");
  p.N = (int)sh.dims.at("N");
  p.K = (int)sh.dims.at("K");
  p.dtype = sh.wtype;
  const HostTensor& x = a.in("x");
  p.x_f16.resize(x.f.size());
  p.x.resize(x.f.size());
  for (size_t i = 0; i < x.f.size(); i++) {
    p.x_f16[i] = f32_to_f16(x.f[i]);
    p.x[i] = f16_to_f32(p.x_f16[i]);
  }
  p.w = a.in("weight").raw;
  return p;
}

std::vector<float> reference(const Problem& p) {
  std::vector<float> out((size_t)p.T * p.N);
  ref::linear(out.data(), p.x.data(), p.dtype, p.w.data(), p.T, p.K, p.N);
  return out;
}

// out (T,N) of one algorithm, as f32 (out_f32) or f16 (out_f16, returned as f32).
std::vector<float> run_device(Gpu& gpu, const Problem& p, LinearAlgo algo, bool f16_out) {
  DevicePtr x = device_upload(p.x_f16.data(), p.x_f16.size() * 2);
  DevicePtr w = device_upload(p.w.data(), p.w.size());
  const cuda::DeviceWeight dw{p.dtype, static_cast<const uint8_t*>(w.get()), p.N, p.K};
  DevicePtr ws = device_alloc(cuda::linear_workspace_bytes(dw, algo));
  const size_t n = (size_t)p.T * p.N;
  DevicePtr out = device_alloc(n * (f16_out ? 2 : 4));
  cuda::linear(f16_out ? static_cast<half*>(out.get()) : nullptr,
               f16_out ? nullptr : static_cast<float*>(out.get()), static_cast<const half*>(x.get()),
               dw, p.T, algo, ws.get(), gpu.cublas, gpu.stream);
  GP_CUDA_CHECK(cudaStreamSynchronize(gpu.stream));
  std::vector<float> got(n);
  if (f16_out) {
    std::vector<uint16_t> h(n);
    GP_CUDA_CHECK(cudaMemcpy(h.data(), out.get(), n * 2, cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < n; i++) got[i] = f16_to_f32(h[i]);
  } else {
    GP_CUDA_CHECK(cudaMemcpy(got.data(), out.get(), n * 4, cudaMemcpyDeviceToHost));
  }
  return got;
}

// The story of a comparison: first mismatches with their (t, n) index, then
// one summary line. bound: allowed max |got - want|.
::testing::AssertionResult close(const std::string& what, const std::vector<float>& got,
                                 const std::vector<float>& want, const std::vector<int64_t>& shape,
                                 double bound) {
  const ErrorStats s = compare(got.data(), want.data(), (int64_t)got.size());
  std::ostringstream os;
  os << what << " (" << shape[0] << ", " << shape[1] << ")";
  if (s.non_finite == 0 && s.max_abs <= bound) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure();
  r << os.str() << "\n";
  for (int64_t i : first_mismatches(got.data(), want.data(), (int64_t)got.size(), bound, 5))
    r << "  at " << format_index(i, shape) << ": got " << got[i] << ", want " << want[i] << "\n";
  r << "  max abs " << s.max_abs << " at " << format_index(s.max_abs_at, shape) << ", max rel "
    << s.max_rel << ", nmse " << s.nmse << ", non-finite " << s.non_finite << ", "
    << (bound > 0 ? 100.0 * s.max_abs / bound : INFINITY) << "% of the bound " << bound;
  return r;
}

// kHalfStorageVsReference with no oracle noise to scale (the reference is the
// expectation here): 2 f16 ulps of the largest output. It covers the f16
// rounding of the output (half an ulp) plus, for the tensor-core and cuBLAS
// versions, the f16 rounding of dequantized weights (2^-12 relative per
// weight, random in sign, so about sqrt(K) 2^-12 |x||w| in total, well under
// an ulp of the largest output, which grows as sqrt(K) |x||w| too).
double bound_for(const std::vector<float>& want) {
  double m = 0;
  for (float v : want) m = std::max(m, (double)std::fabs(v));
  return kHalfStorageVsReference.bound(0.0, m);
}

void check_all_outputs(Gpu& gpu, const Problem& p, LinearAlgo algo, const std::vector<float>& want) {
  const double bound = bound_for(want);
  for (bool f16_out : {false, true}) {
    const std::string what = std::string("linear ") + algo_name(algo) + " " + dtype_name(p.dtype) +
                             " " + p.label + (f16_out ? " out f16" : " out f32");
    EXPECT_TRUE(close(what, run_device(gpu, p, algo, f16_out), want, {p.T, p.N}, bound));
  }
}

bool have_device(std::string* why) { return cuda::device_count(why) > 0; }

// ---- odd shapes: every algorithm x dtype over the tail grid ---------------

// One version and weight dtype (printed by name in test listings).
struct AlgoDtype {
  LinearAlgo algo;
  DType dtype;
  friend void PrintTo(const AlgoDtype& p, std::ostream* os) {
    *os << algo_name(p.algo) << " " << dtype_name(p.dtype);
  }
};

std::vector<AlgoDtype> algo_dtypes() {
  std::vector<AlgoDtype> out;
  for (LinearAlgo a : kAlgos)
    for (DType t : kDTypes) out.push_back({a, t});
  return out;
}

class CudaLinearOdd : public ::testing::TestWithParam<AlgoDtype> {};

TEST_P(CudaLinearOdd, MatchesReferenceOnTailShapes) {
  std::string why;
  if (!have_device(&why)) GTEST_SKIP() << why;
  const auto [algo, dtype] = GetParam();
  if (algo == LinearAlgo::Cublas) SKIP_ON_SIMULATOR("cuBLAS");
  Gpu gpu(algo == LinearAlgo::Cublas);
  for (int T : {1, 3, 8, 9, 17, 64})
    for (int N : {1, 7, 64, 129})
      for (int K : {32, 96, 256}) {
        const OpShape sh{str("odd/T", T, "_N", N, "_K", K), {{"T", T}, {"N", N}, {"K", K}}, dtype};
        SCOPED_TRACE(sh.label);
        const Problem p = make_problem(sh);
        check_all_outputs(gpu, p, algo, reference(p));
      }
}

// Small integers: every product and partial sum is an integer below 2^24, so
// every version must equal the reference exactly (f32 output).
TEST_P(CudaLinearOdd, ExactOnSmallIntegers) {
  std::string why;
  if (!have_device(&why)) GTEST_SKIP() << why;
  const auto [algo, dtype] = GetParam();
  const int T = 17, N = 33, K = 256;
  Problem p;
  p.label = "small integers";
  p.T = T, p.N = N, p.K = K, p.dtype = dtype;
  for (int i = 0; i < T * K; i++) {
    p.x.push_back((float)((i * 5 + i / K) % 7 - 3));  // -3 .. 3
    p.x_f16.push_back(f32_to_f16(p.x.back()));
  }
  std::mt19937_64 g(5);
  std::uniform_int_distribution<int> byte(0, 255);
  p.w.resize(dtype_row_bytes(dtype, K) * N);
  for (auto& b : p.w) b = (uint8_t)byte(g);
  const uint16_t one = f32_to_f16(1.0f), minus8 = f32_to_f16(-8.0f);
  const int64_t bb = dtype_block_bytes(dtype);
  if (dtype == DType::F16) {
    for (size_t i = 0; i < p.w.size() / 2; i++) {
      const uint16_t v = f32_to_f16((float)(byte(g) - 128));  // integers exact in f16
      std::memcpy(&p.w[2 * i], &v, 2);
    }
  } else {
    for (size_t off = 0; off < p.w.size(); off += bb) {  // d = 1 (q4_1: m = -8)
      std::memcpy(&p.w[off], &one, 2);
      if (dtype == DType::Q4_1) std::memcpy(&p.w[off + 2], &minus8, 2);
    }
  }
  const std::vector<float> want = reference(p);
  const std::string what = std::string("linear ") + algo_name(algo) + " " + dtype_name(dtype) +
                           " small integers";
  if (algo == LinearAlgo::Cublas) SKIP_ON_SIMULATOR("cuBLAS");
  Gpu gpu(algo == LinearAlgo::Cublas);
  EXPECT_TRUE(close(what, run_device(gpu, p, algo, false), want, {T, N}, 0.0));
}

// Two runs on the same inputs give the same bits (fixed reduction order, no atomics).
TEST_P(CudaLinearOdd, BitwiseDeterministic) {
  std::string why;
  if (!have_device(&why)) GTEST_SKIP() << why;
  const auto [algo, dtype] = GetParam();
  if (algo == LinearAlgo::Cublas) SKIP_ON_SIMULATOR("cuBLAS");
  Gpu gpu(algo == LinearAlgo::Cublas);
  for (int T : {1, 8, 129}) {
    const OpShape sh{str("det/T", T), {{"T", T}, {"N", 1536}, {"K", 576}}, dtype};
    SCOPED_TRACE(sh.label);
    const Problem p = make_problem(sh);
    for (bool f16_out : {false, true}) {
      const std::vector<float> a = run_device(gpu, p, algo, f16_out);
      const std::vector<float> b = run_device(gpu, p, algo, f16_out);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0)
          << algo_name(algo) << " " << dtype_name(dtype) << (f16_out ? " out f16" : " out f32");
    }
  }
}

std::string algo_dtype_name(const ::testing::TestParamInfo<AlgoDtype>& i) {
  return std::string(algo_name(i.param.algo)) + "_" + dtype_name(i.param.dtype);
}

INSTANTIATE_TEST_SUITE_P(AlgoDtype, CudaLinearOdd, ::testing::ValuesIn(algo_dtypes()),
                         algo_dtype_name);

// ---- real model shapes from the op registry ------------------------------
// Parameterized by registry shape; every algorithm is checked against one
// reference run (the reference of a Phi-3-mini prefill takes seconds).

// A registry shape (printed by its label and dtype in test listings).
struct RealCase {
  OpShape shape;
  friend void PrintTo(const RealCase& c, std::ostream* os) {
    *os << c.shape.label << " " << dtype_name(c.shape.wtype);
  }
};

std::vector<RealCase> real_shapes() {
  std::vector<RealCase> out;
  const OpSpec* op = find_op("linear");
  if (!op) return out;
  for (const OpShape& sh : op->shapes) {
    const bool model = sh.label.rfind("smollm2-135m/", 0) == 0 || sh.label.rfind("phi-3-mini/", 0) == 0;
    bool read_natively = false;
    for (DType t : kDTypes) read_natively |= sh.wtype == t;
    if (model && read_natively) out.push_back({sh});
  }
  return out;
}

class CudaLinearReal : public ::testing::TestWithParam<RealCase> {};

// The outputs of one device run that a partial grid computed (all of them
// elsewhere), against the reference of just the rows and columns they fall
// in: of the written rows, at most the 8 spread ones linear_rows-style (every
// row of a linear is independent), which keeps the reference of a 512-token
// prefill to seconds.
void check_partial_outputs(Gpu& gpu, const Problem& p, LinearAlgo algo, const gptest::PartialLinearGrid& partial) {
  const int64_t before = partial.partial_launches();
  for (bool f16_out : {false, true}) {
    const std::string what = std::string("linear ") + algo_name(algo) + " " + dtype_name(p.dtype) + " " +
                             p.label + (f16_out ? " out f16" : " out f32");
    const std::vector<float> got = run_device(gpu, p, algo, f16_out);
    ASSERT_GT(partial.partial_launches(), before) << what << ": no partial grid ran";
    std::vector<int> rows, cols;
    std::vector<char> row_written(p.T, 0), col_written(p.N, 0);
    for (int t = 0; t < p.T; t++)
      for (int n = 0; n < p.N; n++)
        if (!partial.unwritten(got[(size_t)t * p.N + n])) row_written[t] = col_written[n] = 1;
    for (int n = 0; n < p.N; n++)
      if (col_written[n]) cols.push_back(n);
    std::vector<int> written_rows;
    for (int t = 0; t < p.T; t++)
      if (row_written[t]) written_rows.push_back(t);
    ASSERT_FALSE(written_rows.empty()) << what << ": the partial grid computed no output";
    if (written_rows.size() <= 8) {
      rows = written_rows;
    } else {
      for (int i = 0; i < 8; i++) rows.push_back(written_rows[i * (written_rows.size() - 1) / 7]);
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    }
    // the sub-problem: those rows of x, those rows of the stored weight
    Problem sub = p;
    sub.T = (int)rows.size();
    sub.N = (int)cols.size();
    sub.x.clear();
    for (int t : rows) sub.x.insert(sub.x.end(), p.x.begin() + (size_t)t * p.K, p.x.begin() + (size_t)(t + 1) * p.K);
    const size_t rb = (size_t)dtype_row_bytes(p.dtype, p.K);
    sub.w.clear();
    for (int n : cols) sub.w.insert(sub.w.end(), p.w.begin() + n * rb, p.w.begin() + (n + 1) * rb);
    const std::vector<float> want_sub = reference(sub);
    std::vector<float> g, w;
    for (size_t i = 0; i < rows.size(); i++)
      for (size_t j = 0; j < cols.size(); j++) {
        const float v = got[(size_t)rows[i] * p.N + cols[j]];
        if (partial.unwritten(v)) continue;
        g.push_back(v);
        w.push_back(want_sub[i * cols.size() + j]);
      }
    ASSERT_FALSE(g.empty()) << what;
    EXPECT_TRUE(close(what + " (" + std::to_string(g.size()) + " outputs of a partial grid of " +
                          std::to_string(gptest::kPartialBlocks) + " blocks)",
                      g, w, {1, (int64_t)g.size()}, bound_for(w)));
  }
}

TEST_P(CudaLinearReal, EveryAlgoMatchesReference) {
  std::string why;
  if (!have_device(&why)) GTEST_SKIP() << why;
  const Problem p = make_problem(GetParam().shape);
  // on the simulated device, a 3.8B/7B shape runs a partial grid (partial_grid.h)
  const gptest::PartialLinearGrid partial(gptest::large_model_shape(p.label));
#if defined(GOLDPATH_SIM)
  Gpu gpu(false);  // cuBLAS cannot run on the simulated device; CudaLinearOdd's Cublas cases skip saying so
#else
  Gpu gpu;
#endif
  if (partial.partial()) {
    for (LinearAlgo algo : kAlgos)
      if (algo != LinearAlgo::Cublas) check_partial_outputs(gpu, p, algo, partial);
    return;
  }
  const std::vector<float> want = reference(p);
  for (LinearAlgo algo : kAlgos)
#if defined(GOLDPATH_SIM)
    if (algo != LinearAlgo::Cublas)
#endif
      check_all_outputs(gpu, p, algo, want);
}

std::string shape_name(const ::testing::TestParamInfo<RealCase>& i) {
  std::string s = i.param.shape.label + "_" + dtype_name(i.param.shape.wtype);
  for (char& c : s)
    if (!std::isalnum((unsigned char)c)) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Registry, CudaLinearReal, ::testing::ValuesIn(real_shapes()), shape_name);

// ---- argument checks (no device needed: they throw before any CUDA call) --

// Throws gp::Error whose message contains `needle`.
::testing::AssertionResult throws_naming(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
  } catch (const Error& e) {
    if (std::string(e.what()).find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message \"" << e.what() << "\" does not name \""
                                         << needle << "\"";
  }
  return ::testing::AssertionFailure() << "no gp::Error (wanted one naming \"" << needle << "\")";
}

TEST(CudaLinear, RejectsUnsupportedArguments) {
  // fake, aligned, never dereferenced: every case fails its checks first
  alignas(16) static uint8_t fake[64];
  half* o16 = reinterpret_cast<half*>(fake);
  float* o32 = reinterpret_cast<float*>(fake);
  const half* x = reinterpret_cast<const half*>(fake);
  const cuda::DeviceWeight good{DType::Q4_0, fake, 7, 64};
  auto run = [&](half* a, float* b, const half* xx, cuda::DeviceWeight w, int T) {
    return [=] { cuda::linear(a, b, xx, w, T, LinearAlgo::Auto, nullptr, nullptr, nullptr); };
  };
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x, {DType::F32, fake, 7, 64}, 1), "f32"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x, {DType::BF16, fake, 7, 64}, 1), "bf16"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x, {DType::Q8_0, fake, 7, 48}, 1), "K = 48"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x, {DType::F16, fake, 7, 12}, 1), "K = 12"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x, {DType::F16, fake, 0, 16}, 1), "empty"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x, good, 0), "T = 0"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x, good, -3), "T = -3"));
  EXPECT_TRUE(throws_naming(run(nullptr, nullptr, x, good, 1), "exactly one"));
  EXPECT_TRUE(throws_naming(run(o16, o32, x, good, 1), "exactly one"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, nullptr, good, 1), "x is null"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x, {DType::Q4_0, nullptr, 7, 64}, 1), "weight data is null"));
  EXPECT_TRUE(throws_naming(run(o16, nullptr, x + 1, good, 1), "16-byte aligned"));
  EXPECT_TRUE(throws_naming(
      [&] { cuda::linear(o16, nullptr, x, good, 9, LinearAlgo::Cublas, nullptr, nullptr, nullptr); },
      "handle is null"));
}

TEST(CudaLinear, WorkspaceIsTheDequantizedWeightForCublasOnly) {
  const cuda::DeviceWeight q{DType::Q4_1, nullptr, 1536, 576}, h{DType::F16, nullptr, 1536, 576};
  EXPECT_EQ(cuda::linear_workspace_bytes(q, LinearAlgo::Cublas), 1536u * 576u * 2u);
  EXPECT_EQ(cuda::linear_workspace_bytes(h, LinearAlgo::Cublas), 0u);
  for (LinearAlgo a : {LinearAlgo::Auto, LinearAlgo::Gemv, LinearAlgo::Mma})
    EXPECT_EQ(cuda::linear_workspace_bytes(q, a), 0u) << algo_name(a);
  EXPECT_THROW(cuda::linear_workspace_bytes({DType::F32, nullptr, 4, 32}, LinearAlgo::Cublas), Error);
}

}  // namespace
}  // namespace gp
