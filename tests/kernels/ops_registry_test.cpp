// ops_registry_test.cpp: layer 2 of verification: every entry of the CUDA op
// tables (kernels/registry.h: "cuda" with its explicit versions, "cublas")
// on every registered shape of its op (core/ops.h) against the reference
// table, within the op's float16-storage tolerance, and run twice with
// bitwise-equal results. Skips without a CUDA device, and an entry that
// cannot run on the device at hand (UnsupportedOp), saying why.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/metrics.h"
#include "core/ops.h"
#include "kernels/device.h"
#include "kernels/registry.h"
#include "reference/registry.h"
#include "tests/kernels/partial_grid.h"
#include "tests/kernels/skip.h"

namespace gp {
namespace {

const std::map<std::string, OpFn>& table(const std::string& name) {
  return name == "cublas" ? cuda::cublas_ops() : cuda::cuda_ops();
}

// Listing the tables needs no device.
TEST(CudaOpTables, EveryRegisteredOpIsInBothTables) {
  for (const auto& op : op_registry()) {
    EXPECT_TRUE(cuda::cuda_ops().count(op.name)) << op.name << " is missing from cuda_ops()";
    EXPECT_TRUE(cuda::cublas_ops().count(op.name)) << op.name << " is missing from cublas_ops()";
  }
  for (const char* t : {"cuda", "cublas"})
    for (const auto& [entry, fn] : table(t))
      EXPECT_NE(find_op(cuda::version_op_name(entry)), nullptr) << t << " entry " << entry << " names no registered op";
  EXPECT_TRUE(cuda::cuda_ops().count("linear.gemv") && cuda::cuda_ops().count("linear.mma"));
  EXPECT_TRUE(cuda::cublas_ops().count("attention.cudnn"));  // cuDNN's fused attention, every T
}

struct Case {
  std::string table;  // "cuda" or "cublas"
  std::string entry;  // "linear", "linear.mma", ...
  std::string op;     // the registered op
  size_t shape = 0;   // index into the op's shapes
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.table << " " << c.entry << " shape " << c.shape; }

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const char* t : {"cuda", "cublas"})
    for (const auto& [entry, fn] : table(t)) {
      const OpSpec* spec = find_op(cuda::version_op_name(entry));
      if (!spec) continue;  // reported by EveryRegisteredOpIsInBothTables
      for (size_t i = 0; i < spec->shapes.size(); i++) out.push_back({t, entry, spec->name, i});
    }
  return out;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  const OpShape& sh = find_op(c.op)->shapes[c.shape];
  std::string s = c.table + "_" + c.entry + "_" + sh.label + "_" + dtype_name(sh.wtype) + "_" + std::to_string(c.shape);
  for (char& ch : s)
    if (!std::isalnum((unsigned char)ch)) ch = '_';
  return s;
}

// Rows of x whose reference output is compared for a linear too large for the
// naive CPU reference to run whole in a test (every row of a linear is
// independent, so a sample of rows checks the same kernel tiles' math):
// all rows when T * K * N is small, else 8 rows spread over T, first and last included.
std::vector<int64_t> linear_rows(int64_t T, int64_t K, int64_t N) {
  std::vector<int64_t> rows;
  if ((double)T * K * N <= 2e8) {
    for (int64_t t = 0; t < T; t++) rows.push_back(t);
    return rows;
  }
  for (int i = 0; i < 8; i++) rows.push_back(i * (T - 1) / 7);
  return rows;
}

// reference output of the op (for a big linear: of the sampled rows only,
// returned in their order, with *rows set)
std::vector<float> reference_out(const OpSpec& spec, const OpArgs& in, std::vector<int64_t>* rows) {
  OpArgs a = in;
  rows->clear();
  if (spec.name == "linear") {
    const HostTensor& x = a.in("x");
    const int64_t T = x.shape[0], K = x.shape[1], N = a.in("weight").shape[0];
    *rows = linear_rows(T, K, N);
    if ((int64_t)rows->size() < T) {
      HostTensor sub = x;
      sub.shape = {(int64_t)rows->size(), K};
      sub.f.clear();
      for (int64_t t : *rows) sub.f.insert(sub.f.end(), x.f.begin() + t * K, x.f.begin() + (t + 1) * K);
      a.t["x"] = sub;
    } else {
      rows->clear();
    }
  }
  ref::reference_ops().at(spec.name)(a);
  return a.out().f;
}

::testing::AssertionResult close_to(const std::vector<float>& got, const std::vector<float>& want,
                                    const std::vector<int64_t>& shape, const Tolerance& tol, const std::string& what) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << what << ": " << got.size() << " values, the reference has " << want.size();
  const int64_t n = (int64_t)want.size();
  double max_want = 0;
  for (float v : want) max_want = std::max(max_want, (double)std::fabs(v));
  // no low-precision oracle run for random inputs: the bound is the tolerance's floor
  const double bound = tol.bound(0.0, max_want);
  const ErrorStats s = compare(got.data(), want.data(), n);
  if (s.non_finite == 0 && s.max_abs <= bound) return ::testing::AssertionSuccess();
  auto f = ::testing::AssertionFailure();
  f << what << " " << ::testing::PrintToString(shape) << ": ";
  for (int64_t i : first_mismatches(got.data(), want.data(), n, bound, 5))
    f << "\n  at " << format_index(i, shape) << ": got " << got[i] << ", want " << want[i];
  f << "\n  max abs " << s.max_abs << " at " << format_index(s.max_abs_at, shape) << ", max rel " << s.max_rel
    << ", NMSE " << s.nmse << ", non-finite " << s.non_finite << ", tolerance " << bound << " ("
    << (bound > 0 ? 100.0 * s.max_abs / bound : 0.0) << "% used; " << tol.reason << ")";
  return f;
}

class CudaOpVsReference : public ::testing::TestWithParam<Case> {};

TEST_P(CudaOpVsReference, WithinHalfStorageToleranceAndDeterministic) {
  std::string why;
  if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  const Case& c = GetParam();
  if (c.table == "cublas") SKIP_ON_SIMULATOR("the cublas op table (cuBLAS, cuDNN)");
  const OpSpec& spec = *find_op(c.op);
  const OpShape& sh = spec.shapes[c.shape];
  // on the simulated device, a 3.8B/7B linear runs a partial grid (partial_grid.h)
  const gptest::PartialLinearGrid partial(c.op == "linear" && gptest::large_model_shape(sh.label));
  OpArgs in;
  spec.make_inputs(sh, 1234 + c.shape, in);

  OpArgs a = in, b = in;
  try {
    table(c.table).at(c.entry)(a);
  } catch (const UnsupportedOp& e) {  // a vendor version this device or build cannot run
    GTEST_SKIP() << c.table << " " << c.entry << " on " << sh.label << ": " << e.what();
  }
  table(c.table).at(c.entry)(b);
  const HostTensor& got = a.out();
  ASSERT_EQ((int64_t)got.f.size(), got.numel());
  ASSERT_GT(got.numel(), 0);
  ASSERT_EQ(b.out().shape, got.shape);
  EXPECT_EQ(std::memcmp(got.f.data(), b.out().f.data(), got.f.size() * sizeof(float)), 0)
      << c.entry << " on " << sh.label << " gave different bits on a second run";

  std::vector<int64_t> rows;
  const std::vector<float> want = reference_out(spec, in, &rows);
  const std::string what = c.table + " " + c.entry + " " + sh.label + " " + dtype_name(sh.wtype);
  std::vector<float> picked = got.f;
  std::vector<int64_t> shape = got.shape;
  std::string how;
  if (!rows.empty()) {
    const int64_t N = got.shape[1];
    picked.clear();
    for (int64_t t : rows) picked.insert(picked.end(), got.f.begin() + t * N, got.f.begin() + (t + 1) * N);
    shape = {(int64_t)rows.size(), N};
    how = " (sampled rows)";
  }
  if (partial.partial()) {  // compare what the partial grid computed
    ASSERT_GT(partial.partial_launches(), 0) << what << ": no partial grid ran";
    std::vector<float> g2, w2;
    for (size_t i = 0; i < picked.size(); i++)
      if (!partial.unwritten(picked[i])) g2.push_back(picked[i]), w2.push_back(want[i]);
    ASSERT_GT(g2.size(), 0u) << what << ": the partial grid computed none of the compared outputs";
    how += " (" + std::to_string(g2.size()) + " of " + std::to_string(picked.size()) +
           " outputs, computed by a partial grid of " + std::to_string(gptest::kPartialBlocks) + " blocks)";
    EXPECT_TRUE(close_to(g2, w2, {(int64_t)g2.size()}, spec.tolerance.at(DType::F16), what + how));
    return;
  }
  EXPECT_TRUE(close_to(picked, want, shape, spec.tolerance.at(DType::F16), what + how));
}

INSTANTIATE_TEST_SUITE_P(EveryOpEveryShape, CudaOpVsReference, ::testing::ValuesIn(all_cases()), case_name);

TEST(CudaOpTables, BadOperandsAreErrors) {
  std::string why;
  if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  OpArgs a;
  EXPECT_THROW(cuda::cuda_ops().at("rmsnorm")(a), Error);
  const OpSpec* emb = find_op("embedding");
  emb->make_inputs(emb->shapes[0], 3, a);
  a.t["ids"].i[0] = (int32_t)a.in("table").shape[0];  // one past the table
  EXPECT_THROW(cuda::cuda_ops().at("embedding")(a), Error);
  // the attention kernels read a KV cache that ends at the last query
  const OpSpec* att = find_op("attention");
  OpArgs q;
  att->make_inputs(att->shapes[0], 3, q);
  q.p["q_pos0"] = q.param("q_pos0") + 2;  // S != q_pos0 + T
  EXPECT_THROW(cuda::cuda_ops().at("attention")(q), Error);
}

}  // namespace
}  // namespace gp
