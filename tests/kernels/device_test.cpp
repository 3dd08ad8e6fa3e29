// device_test.cpp: CUDA device discovery; without a device the GPU tests skip
// and say why.
#include <gtest/gtest.h>

#include "kernels/device.h"

TEST(CudaDevice, CountOrReason) {
  std::string why;
  const int n = gp::cuda::device_count(&why);
  if (n == 0) {
    EXPECT_FALSE(why.empty());
    GTEST_SKIP() << why;
  }
  const auto d = gp::cuda::device_info(0);
  EXPECT_GE(d.cc_major * 10 + d.cc_minor, 75) << d.name << " is older than sm_75";
  EXPECT_GT(d.total_memory, 0u);
}
