// metrics.cpp: error metrics (metrics.h).
#include "core/metrics.h"

#include <cmath>
#include <vector>

namespace gp {

ErrorStats compare(const float* got, const float* want, int64_t n) {
  ErrorStats s;
  s.n = n;
  double se = 0, sw = 0;
  for (int64_t i = 0; i < n; i++) {
    const double g = got[i], w = want[i];
    if (!std::isfinite(g)) {
      s.non_finite++;
      if (s.non_finite == 1) s.max_abs_at = i;
      s.max_abs = INFINITY;
      continue;
    }
    const double d = std::fabs(g - w);
    if (d > s.max_abs) {
      s.max_abs = d;
      s.max_abs_at = i;
    }
    const double r = d / std::max(std::fabs(w), 1e-6);
    if (r > s.max_rel) s.max_rel = r;
    se += d * d;
    sw += w * w;
  }
  s.nmse = s.non_finite ? INFINITY : (sw > 0 ? se / sw : se);
  s.rel_l2 = std::sqrt(s.nmse);
  return s;
}

std::string format_index(int64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] <= 0) continue;
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string out = "[";
  for (size_t d = 0; d < idx.size(); d++) out += (d ? ", " : "") + std::to_string(idx[d]);
  return out + "]";
}

std::vector<int64_t> first_mismatches(const float* got, const float* want, int64_t n, double tol,
                                      int limit) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n && (int)out.size() < limit; i++) {
    const double d = std::fabs((double)got[i] - (double)want[i]);
    if (!(d <= tol)) out.push_back(i);  // also catches nan
  }
  return out;
}

int64_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

double kl_divergence(const float* got_logits, const float* want_logits, int64_t n) {
  double mg = -INFINITY, mw = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    mg = std::max(mg, (double)got_logits[i]);
    mw = std::max(mw, (double)want_logits[i]);
  }
  double zg = 0, zw = 0;
  for (int64_t i = 0; i < n; i++) {
    zg += std::exp(got_logits[i] - mg);
    zw += std::exp(want_logits[i] - mw);
  }
  const double lzg = std::log(zg) + mg, lzw = std::log(zw) + mw;
  double kl = 0;
  for (int64_t i = 0; i < n; i++) {
    const double lw = want_logits[i] - lzw, lg = got_logits[i] - lzg;
    kl += std::exp(lw) * (lw - lg);
  }
  return kl;
}

}  // namespace gp
