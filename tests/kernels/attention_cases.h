// attention_cases.h: what the attention kernel tests share (attention_test.cpp,
// vendor_attention_test.cpp): a case's shape, its inputs from the registry's
// generator with the reference output and the f16 tolerance, K/V caches with
// NaN rows past the live context, and the comparison.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/metrics.h"
#include "core/ops.h"
#include "core/tolerance.h"
#include "kernels/ops.h"
#include "reference/ops.h"
#include "tests/kernels/device_util.h"

namespace gptest {
using namespace gp;

// cache rows past the live context: NaN, so a kernel reading them shows NaNs
constexpr int kCachePad = 37;

// got vs want (row-major `shape`) within `bound`: the first mismatches with
// their index, then one summary line.
inline ::testing::AssertionResult close(const std::string& what, const std::vector<float>& got,
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

inline double max_abs(const std::vector<float>& x) {
  double m = 0;
  for (float v : x) m = std::max(m, (double)std::fabs(v));
  return m;
}

struct Case {
  std::string label;
  int T, S, Hq, Hkv, hd, window;
};

inline void PrintTo(const Case& c, std::ostream* os) {
  *os << c.label << " (T " << c.T << ", S " << c.S << ", Hq " << c.Hq << ", Hkv " << c.Hkv << ", hd "
      << c.hd << ", window " << c.window << ")";
}

inline std::string case_name(const ::testing::TestParamInfo<Case>& info) {
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

inline Prepared prepare(const Case& c, uint64_t seed = 1234) {
  const OpSpec* spec = find_op("attention");
  OpShape sh{c.label, {{"T", c.T}, {"S", c.S}, {"Hq", c.Hq}, {"Hkv", c.Hkv}, {"hd", c.hd}, {"window", c.window}}};
  OpArgs a;
  spec->make_inputs(sh, seed, a);
  Prepared p{c, a.in("q").f, a.in("k").f, a.in("v").f, {}, spec->tolerance.at(DType::F16), {}};
  const int64_t n_out = (int64_t)c.T * c.Hq * c.hd;
  p.want.resize(n_out);
  p.lowp.resize(n_out);
  ref::attention(p.want.data(), p.q.data(), p.k.data(), p.v.data(), c.T, c.S, c.Hq, c.Hkv, c.hd,
                 c.S - c.T, c.window);
  const std::vector<float> q16 = round_f16(p.q), k16 = round_f16(p.k), v16 = round_f16(p.v);
  ref::attention(p.lowp.data(), q16.data(), k16.data(), v16.data(), c.T, c.S, c.Hq, c.Hkv, c.hd,
                 c.S - c.T, c.window);
  p.lowp = round_f16(p.lowp);
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
    std::vector<uint16_t> hk(cap * row, kF16NaN), hv(cap * row, kF16NaN);
    const std::vector<uint16_t> k16 = to_f16(p.k), v16 = to_f16(p.v);
    std::copy(k16.begin(), k16.end(), hk.begin());
    std::copy(v16.begin(), v16.end(), hv.begin());
    upload_f16(k.p, hk);
    upload_f16(v.p, hv);
  }
};

inline cuda::AttentionShape shape_of(const Case& c) { return {c.Hq, c.Hkv, c.hd, c.window}; }

}  // namespace gptest
