// ops.cpp: reference ops (ops.h). Readable first: float32 in and out,
// double accumulators, Eigen only as a view over raw buffers.
#include "reference/ops.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/rope.h"

namespace gp::ref {

using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapF = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

void embedding(float* out, DType tt, const uint8_t* table, const int32_t* ids, int64_t T, int64_t V,
               int64_t D) {
  const int64_t rb = dtype_row_bytes(tt, D);
  for (int64_t t = 0; t < T; t++) {
    GP_CHECK(ids[t] >= 0 && ids[t] < V, "embedding: token id ", ids[t], " outside 0..", V - 1);
    dequantize_row(tt, table + ids[t] * rb, out + t * D, D);
  }
}

void rmsnorm(float* out, const float* x, const float* weight, int64_t T, int64_t D, double eps) {
  for (int64_t t = 0; t < T; t++) {
    const float* xr = x + t * D;
    double ss = 0;
    for (int64_t i = 0; i < D; i++) ss += (double)xr[i] * xr[i];
    const double inv = 1.0 / std::sqrt(ss / D + eps);
    for (int64_t i = 0; i < D; i++) out[t * D + i] = (float)(weight[i] * (xr[i] * inv));
  }
}

void linear(float* out, const float* x, DType wt, const uint8_t* w, int64_t T, int64_t K,
            int64_t N) {
  // dequantize a panel of weight rows, then one double GEMM: out = x @ panel^T
  const int64_t rb = dtype_row_bytes(wt, K);
  const int64_t panel = 64;
  const MatD xd = MapF(x, T, K).cast<double>();  // (T, K)
  std::vector<float> rows(panel * K);
  for (int64_t n0 = 0; n0 < N; n0 += panel) {
    const int64_t np = std::min(panel, N - n0);
    for (int64_t r = 0; r < np; r++) dequantize_row(wt, w + (n0 + r) * rb, rows.data() + r * K, K);
    const MatD wd = MapF(rows.data(), np, K).cast<double>();  // (np, K)
    const MatD o = xd * wd.transpose();                        // (T, np)
    for (int64_t t = 0; t < T; t++)
      for (int64_t r = 0; r < np; r++) out[t * N + n0 + r] = (float)o(t, r);
  }
}

void rope(float* out, const float* x, const int32_t* positions, int64_t T, int64_t H, int64_t hd,
          double theta) {
  const std::vector<float> inv_freq = rope_inv_freq(hd, theta);  // (hd/2)
  const int64_t half = hd / 2;
  for (int64_t t = 0; t < T; t++)
    for (int64_t i = 0; i < half; i++) {
      const double a = rope_angle(positions[t], inv_freq[i]);
      const double c = (float)std::cos(a), s = (float)std::sin(a);  // float32 tables as transformers
      for (int64_t h = 0; h < H; h++) {
        const float* xr = x + (t * H + h) * hd;
        float* o = out + (t * H + h) * hd;
        const double x0 = xr[i], x1 = xr[i + half];
        o[i] = (float)(x0 * c - x1 * s);
        o[i + half] = (float)(x1 * c + x0 * s);
      }
    }
}

void attention(float* out, const float* q, const float* k, const float* v, int64_t T, int64_t S,
               int64_t Hq, int64_t Hkv, int64_t hd, int64_t q_pos0, int64_t sliding_window) {
  GP_CHECK(Hkv > 0 && Hq % Hkv == 0, "attention: ", Hq, " query heads not a multiple of ", Hkv,
           " kv heads");
  GP_CHECK(q_pos0 >= 0 && q_pos0 + T <= S, "attention: queries at ", q_pos0, "..", q_pos0 + T - 1,
           " but only ", S, " keys");
  const int64_t group = Hq / Hkv;
  const double scale = 1.0 / std::sqrt((double)hd);
  std::vector<double> score(S), acc(hd);
  for (int64_t t = 0; t < T; t++) {
    const int64_t p = q_pos0 + t;
    const int64_t lo = sliding_window > 0 ? std::max<int64_t>(0, p - sliding_window + 1) : 0;
    for (int64_t h = 0; h < Hq; h++) {
      const int64_t kh = h / group;
      const float* qr = q + (t * Hq + h) * hd;
      double m = -INFINITY;
      for (int64_t j = lo; j <= p; j++) {
        const float* kr = k + (j * Hkv + kh) * hd;
        double d = 0;
        for (int64_t i = 0; i < hd; i++) d += (double)qr[i] * kr[i];
        score[j] = d * scale;
        m = std::max(m, score[j]);
      }
      double sum = 0;
      for (int64_t j = lo; j <= p; j++) sum += (score[j] = std::exp(score[j] - m));
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = lo; j <= p; j++) {
        const float* vr = v + (j * Hkv + kh) * hd;
        const double pj = score[j] / sum;
        for (int64_t i = 0; i < hd; i++) acc[i] += pj * vr[i];
      }
      float* o = out + (t * Hq + h) * hd;
      for (int64_t i = 0; i < hd; i++) o[i] = (float)acc[i];
    }
  }
}

void swiglu(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const double g = gate[i];
    out[i] = (float)(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void add(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void softmax(float* out, const float* x, int64_t T, int64_t N) {
  for (int64_t t = 0; t < T; t++) {
    const float* xr = x + t * N;
    double m = -INFINITY, sum = 0;
    for (int64_t i = 0; i < N; i++) m = std::max(m, (double)xr[i]);
    for (int64_t i = 0; i < N; i++) sum += std::exp(xr[i] - m);
    for (int64_t i = 0; i < N; i++) out[t * N + i] = (float)(std::exp(xr[i] - m) / sum);
  }
}

}  // namespace gp::ref
