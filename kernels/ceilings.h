// ceilings.h: the speed ceilings of the device at hand, measured in the same
// run as the numbers they bound (the performance model of DESIGN.md):
// bandwidth = a large device-to-device cudaMemcpyAsync (bytes read + written),
// FLOP/s = a large cublasGemmEx, f16 x f16 with f32 accumulation; each the
// best of several repetitions timed with CUDA events after a warm-up. Also the
// theoretical peaks from the device's attributes, as upper bounds for checks.
#pragma once
#include <cstdint>
#include <string>

namespace gp::cuda {

struct Ceilings {
  double bandwidth_bytes_per_s = 0;  // (read + written) / time of the best copy
  double fp16_flops_per_s = 0;       // 2*M*N*K / time of the best GEMM
  int64_t copy_bytes = 0;            // size of the copied buffer (moves 2x this)
  int copy_reps = 0;
  int gemm_m = 0, gemm_n = 0, gemm_k = 0;
  int gemm_reps = 0;
  std::string how() const;  // one line: what was measured, sizes, repetitions
};

// Measures both on `device` (throws gp::Error without one or when even the
// smallest sizes do not fit). Sizes: copy min(1 GiB, free/4); GEMM 8192^3,
// halved until its three matrices fit in a quarter of the free memory.
Ceilings measure_ceilings(int device = 0);

struct TheoreticalPeaks {
  double bandwidth_bytes_per_s = 0;  // 2 (DDR) * memory clock * bus width
  double fp16_flops_per_s = 0;       // dense f16 tensor-core FLOPs/clock/SM (upper bound per arch) * SMs * clock
};
TheoreticalPeaks theoretical_peaks(int device = 0);  // throws gp::Error without a device

// ptxVersion (e.g. 75) of a goldpath kernel as the driver loaded it: 75 under
// CUDA_FORCE_PTX_JIT=1 only when the build's highest PTX for this device is compute_75.
int kernel_ptx_version(int device = 0);

}  // namespace gp::cuda
