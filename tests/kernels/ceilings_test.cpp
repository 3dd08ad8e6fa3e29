// ceilings_test.cpp: the measured ceilings (kernels/ceilings.h) are positive
// and below the device's theoretical peaks (x1.2 for clock and rounding
// slack); NVML readings (kernels/gpu_info.h) are absent with a reason when the
// library is. The device tests skip without a GPU and say why.
#include <gtest/gtest.h>

#include "kernels/ceilings.h"
#include "kernels/device.h"
#include "kernels/gpu_info.h"
#include "tests/kernels/skip.h"

namespace gp::cuda {
namespace {

// measured may exceed the attribute-derived peak by boost clocks and rounding, not more
constexpr double kPeakSlack = 1.2;

TEST(Ceilings, PositiveAndBelowTheoreticalPeaks) {
  SKIP_ON_SIMULATOR("GPU speed (the cuBLAS GEMM and copy ceilings)");
  std::string why;
  if (device_count(&why) == 0) GTEST_SKIP() << why;
  const Ceilings c = measure_ceilings(0);
  const TheoreticalPeaks p = theoretical_peaks(0);
  EXPECT_GT(c.bandwidth_bytes_per_s, 0);
  EXPECT_GT(c.fp16_flops_per_s, 0);
  EXPECT_GE(c.copy_bytes, 64 << 20);
  EXPECT_GE(c.gemm_m, 1024);
  EXPECT_GT(c.copy_reps, 1);
  EXPECT_GT(c.gemm_reps, 1);
  ASSERT_GT(p.bandwidth_bytes_per_s, 0) << "the device reports no memory clock or bus width";
  ASSERT_GT(p.fp16_flops_per_s, 0);
  EXPECT_LT(c.bandwidth_bytes_per_s, kPeakSlack * p.bandwidth_bytes_per_s)
      << "measured " << c.bandwidth_bytes_per_s / 1e9 << " GB/s, theoretical " << p.bandwidth_bytes_per_s / 1e9;
  EXPECT_LT(c.fp16_flops_per_s, kPeakSlack * p.fp16_flops_per_s)
      << "measured " << c.fp16_flops_per_s / 1e12 << " TFLOP/s, theoretical " << p.fp16_flops_per_s / 1e12;
  // a copy of a GiB and an 8192^3 GEMM reach a sizeable part of the peak on any supported GPU
  EXPECT_GT(c.bandwidth_bytes_per_s, 0.3 * p.bandwidth_bytes_per_s);
  EXPECT_GT(c.fp16_flops_per_s, 0.1 * p.fp16_flops_per_s);
  const std::string how = c.how();
  EXPECT_NE(how.find("cublasGemmEx"), std::string::npos) << how;
}

TEST(Ceilings, WithoutADeviceThrowSayingWhy) {
  std::string why;
  if (device_count(&why) > 0) GTEST_SKIP() << "a device is present";
  try {
    measure_ceilings(0);
    FAIL() << "measure_ceilings ran without a device";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

TEST(Ceilings, KernelsCarryPtxOfAtLeastSm75) {
  std::string why;
  if (device_count(&why) == 0) GTEST_SKIP() << why;
  EXPECT_GE(kernel_ptx_version(0), 75);
}

TEST(GpuInfo, AbsentNvmlLeavesReadingsNullWithAReason) {
  const GpuSample s = sample_gpu(0, "libgoldpath-no-such-nvml.so.1");
  EXPECT_FALSE(s.sm_clock_mhz.has_value());
  EXPECT_FALSE(s.memory_clock_mhz.has_value());
  EXPECT_FALSE(s.temperature_c.has_value());
  EXPECT_NE(s.nvml_note.find("NVML unavailable"), std::string::npos) << s.nvml_note;
  EXPECT_NE(s.nvml_note.find("libgoldpath-no-such-nvml.so.1"), std::string::npos) << s.nvml_note;
}

TEST(GpuInfo, ReadingsOrAReason) {
  std::string why;
  if (device_count(&why) == 0) GTEST_SKIP() << why;
  const GpuInfo g = gpu_info(0);
  EXPECT_FALSE(g.device.name.empty());
  EXPECT_GT(g.device.sm_count, 0);
  const GpuSample& s = g.sample;
  if (s.sm_clock_mhz && s.memory_clock_mhz && s.temperature_c) {
    EXPECT_GT(*s.sm_clock_mhz, 0);
    EXPECT_GT(*s.memory_clock_mhz, 0);
    EXPECT_GT(*s.temperature_c, 0);
    EXPECT_LT(*s.temperature_c, 120);
    EXPECT_TRUE(s.nvml_note.empty()) << s.nvml_note;
  } else {
    EXPECT_FALSE(s.nvml_note.empty()) << "a reading is absent without a reason";
  }
}

}  // namespace
}  // namespace gp::cuda
