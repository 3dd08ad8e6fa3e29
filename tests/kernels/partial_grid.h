// partial_grid.h: the 3.8B/7B models' linear shapes on the simulated device.
// Their whole grids take minutes there (every thread of a GEMM over 3072 x
// 8192 weights and 512 tokens), so the linear kernels run a partial grid
// (gpsim::Config::partial_blocks: the first block, the last and a seeded
// sample) and the tests compare the outputs those blocks computed. On a GPU
// every output is computed and compared; the test code is the same.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#if defined(GOLDPATH_SIM)
#include "gpsim/sim.h"
#endif

namespace gptest {

// A 3.8B or 7B model's shape (core/ops.cpp labels).
inline bool large_model_shape(const std::string& label) {
  return label.rfind("phi-3-mini/", 0) == 0 || label.rfind("llama-2-7b/", 0) == 0;
}

constexpr int kPartialBlocks = 8;

// For its scope, when `on` in a GOLDPATH_SIM build: launches of the linear
// kernels (named linear_*) run kPartialBlocks blocks of their grids.
// Elsewhere it does nothing and partial() is false.
class PartialLinearGrid {
 public:
  explicit PartialLinearGrid(bool on) {
#if defined(GOLDPATH_SIM)
    if (!on) return;
    saved_ = gpsim::config();
    gpsim::Config c = saved_;
    c.partial_blocks = kPartialBlocks;
    c.partial_kernel = "linear_";
    gpsim::set_config(c);
    before_ = gpsim::partial_launches_executed();
    on_ = true;
#else
    (void)on;
#endif
  }
  ~PartialLinearGrid() {
#if defined(GOLDPATH_SIM)
    if (on_) gpsim::set_config(saved_);
#endif
  }
  PartialLinearGrid(const PartialLinearGrid&) = delete;
  PartialLinearGrid& operator=(const PartialLinearGrid&) = delete;

  bool partial() const { return on_; }
  // partial grids run in this scope so far
  int64_t partial_launches() const {
#if defined(GOLDPATH_SIM)
    return on_ ? gpsim::partial_launches_executed() - before_ : 0;
#else
    return 0;
#endif
  }
  // An output no block computed keeps the poison of fresh simulated device
  // memory (every byte 0xff): 0xffffffff as f32, 0xffffe000 as an f16 output
  // widened to f32. A kernel's own NaN has other bits. False unless partial.
  bool unwritten(float v) const {
    if (!on_) return false;
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return b == 0xffffffffu || b == 0xffffe000u;
  }

 private:
  bool on_ = false;
#if defined(GOLDPATH_SIM)
  gpsim::Config saved_;
  int64_t before_ = 0;
#endif
};

}  // namespace gptest
