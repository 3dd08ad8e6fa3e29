// smem_limits_test.cpp: dynamic shared memory limits as CUDA enforces them.
// Above 48 KB a kernel must opt in with cudaFuncAttributeMaxDynamicSharedMemorySize;
// a launch asking for more than the kernel's maximum fails with
// cudaErrorInvalidValue (returned by cudaGetLastError, not sticky); the
// attribute itself cannot exceed the device's opt-in maximum (T4: 64 KB,
// H200: 227 KB).
#include "tests/sim/sim_test_util.h"

namespace {

constexpr size_t kKB = 1024;

// Fills n ints of dynamic shared memory, then thread 0 sums them.
__global__ void fill_dynamic(int* out, int n) {
  GP_DYNAMIC_SHARED(int, s);
  for (int i = threadIdx.x; i < n; i += blockDim.x) s[i] = i;
  __syncthreads();
  if (threadIdx.x == 0) {
    long long sum = 0;
    for (int i = 0; i < n; i++) sum += s[i];
    out[0] = (int)(sum % 1000000007);
    out[1] = s[n - 1];
  }
}

// A second kernel, so that its attribute starts from the default.
__global__ void fill_dynamic_h200(int* out, int n) {
  GP_DYNAMIC_SHARED(int, s);
  for (int i = threadIdx.x; i < n; i += blockDim.x) s[i] = i;
  __syncthreads();
  if (threadIdx.x == 0) out[1] = s[n - 1];
}

int expected_sum(int n) { return (int)(((long long)n * (n - 1) / 2) % 1000000007); }

using simtest::ConfigGuard;
using simtest::SimTest;

class SharedLimits : public SimTest {
 protected:
  // runs fill_dynamic with `bytes` of dynamic shared memory and checks its result
  void expect_runs(size_t bytes) {
    const int n = (int)(bytes / sizeof(int));
    int* out = simtest::dev_alloc<int>(2);
    GP_LAUNCH(1, 256, bytes, nullptr, fill_dynamic)(out, n);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    const std::vector<int> h = simtest::dev_download(out, 2);
    EXPECT_EQ(gpsim::last_fault(), "");
    EXPECT_EQ(h[0], expected_sum(n));
    EXPECT_EQ(h[1], n - 1);
  }
};

TEST_F(SharedLimits, T4DynamicSharedMemoryAbove48KBNeedsTheAttribute) {
  gpsim::Config c = gpsim::config();
  c.gpu = gpsim::Gpu::kT4;
  ConfigGuard guard(c);
  const int64_t launches = gpsim::launches_executed();

  // 48 KB: no attribute needed
  expect_runs(48 * kKB);

  // 48 KB + 4 without the attribute: a launch error, and nothing runs
  int* out = simtest::dev_alloc<int>(2);
  const int n = (int)(48 * kKB / sizeof(int)) + 1;
  GP_LAUNCH(1, 256, 48 * kKB + 4, nullptr, fill_dynamic)(out, n);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // not sticky
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(gpsim::launches_executed(), launches + 1);
  EXPECT_EQ(simtest::dev_download(out, 2)[0], -1);  // still poison

  // with the attribute, up to the T4's 64 KB opt-in
  ASSERT_EQ(cudaFuncSetAttribute(fill_dynamic, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)(64 * kKB)),
            cudaSuccess);
  cudaFuncAttributes fa{};
  ASSERT_EQ(cudaFuncGetAttributes(&fa, fill_dynamic), cudaSuccess);
  EXPECT_EQ(fa.maxDynamicSharedSizeBytes, (int)(64 * kKB));
  expect_runs(48 * kKB + 4);
  expect_runs(64 * kKB);

  // more than the kernel's maximum still fails at launch
  GP_LAUNCH(1, 256, 64 * kKB + 4, nullptr, fill_dynamic)(out, n);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);

  // and the attribute cannot exceed the opt-in maximum
  int optin = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), cudaSuccess);
  EXPECT_EQ(optin, (int)(64 * kKB));
  EXPECT_EQ(cudaFuncSetAttribute(fill_dynamic, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)(64 * kKB) + 1),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFuncSetAttribute(fill_dynamic, cudaFuncAttributeMaxDynamicSharedMemorySize, 96 * 1024),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaFuncSetAttribute(fill_dynamic, cudaFuncAttributeMaxDynamicSharedMemorySize, -1),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  // the failed calls left the 64 KB setting in place
  expect_runs(64 * kKB);
}

TEST_F(SharedLimits, H200OptInIs227KB) {
  gpsim::Config c = gpsim::config();
  c.gpu = gpsim::Gpu::kH200;
  ConfigGuard guard(c);
  EXPECT_EQ(cudaFuncSetAttribute(fill_dynamic_h200, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024 + 1),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  ASSERT_EQ(cudaFuncSetAttribute(fill_dynamic_h200, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024),
            cudaSuccess);
  const size_t bytes = 227 * kKB;
  const int n = (int)(bytes / sizeof(int));
  int* out = simtest::dev_alloc<int>(2);
  GP_LAUNCH(1, 256, bytes, nullptr, fill_dynamic_h200)(out, n);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(simtest::dev_download(out, 2)[1], n - 1);
  EXPECT_EQ(gpsim::last_fault(), "");
}

}  // namespace
