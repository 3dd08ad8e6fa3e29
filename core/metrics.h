// metrics.h: error metrics between a result and its expected values.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gp {

struct ErrorStats {
  int64_t n = 0;
  double max_abs = 0;      // max |got - want|
  int64_t max_abs_at = 0;  // flat index of max_abs
  double max_rel = 0;      // max |got - want| / max(|want|, 1e-6)
  double nmse = 0;         // sum (got-want)^2 / sum want^2
  double rel_l2 = 0;       // sqrt(nmse)
  int64_t non_finite = 0;  // entries of got that are nan or inf
};

// got, want: (n)
ErrorStats compare(const float* got, const float* want, int64_t n);
// "[2, 5, 17]" for a flat index into a row-major shape
std::string format_index(int64_t flat, const std::vector<int64_t>& shape);
// Flat indices where |got - want| > tol, the first `limit` of them.
std::vector<int64_t> first_mismatches(const float* got, const float* want, int64_t n, double tol,
                                      int limit);

int64_t argmax(const float* x, int64_t n);  // lowest index on ties
// KL(softmax(want) || softmax(got)) in nats, over n logits.
double kl_divergence(const float* got_logits, const float* want_logits, int64_t n);

}  // namespace gp
