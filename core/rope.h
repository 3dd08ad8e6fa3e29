// rope.h: rotary position embedding angles, shared by the reference and the
// CUDA kernels. The frequency table is built on the host in float32 exactly
// as transformers builds inv_freq (1 / theta^(2i/hd), float32 pow); the angle
// of pair i at position pos is float(pos) * inv_freq[i] (GP_HD), so the
// reference and the kernels rotate by bit-identical angles.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/hd.h"

namespace gp {

// -> (hd/2) float32: inv_freq[i] = 1 / theta^(2i/hd). hd even and positive, theta > 0.
inline std::vector<float> rope_inv_freq(int64_t hd, double theta) {
  GP_CHECK(hd > 0 && hd % 2 == 0, "rope: head size ", hd, " is not a positive even number");
  GP_CHECK(theta > 0, "rope: theta ", theta, " is not positive");
  std::vector<float> inv(hd / 2);
  for (int64_t i = 0; i < hd / 2; i++)
    inv[i] = 1.0f / std::pow((float)theta, (float)(2 * i) / (float)hd);
  return inv;
}

// Angle of a pair with frequency inv_freq at position pos (float32, like transformers).
GP_HD float rope_angle(int64_t pos, float inv_freq) { return (float)pos * inv_freq; }

}  // namespace gp
