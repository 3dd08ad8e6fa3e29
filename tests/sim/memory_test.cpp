// memory_test.cpp: device memory as the simulator guards it. Allocations are
// exact-sized with guard bytes checked after every kernel (ASan's redzones in
// ASan builds), copies are checked against the allocation they touch, and
// memory nobody wrote reads as 0xff bytes (NaN as f32 and f16), so that a
// kernel using it fails a reference comparison instead of passing on zeros.
#include <cmath>
#include <cstring>

#include "tests/sim/sim_test_util.h"

// the detection of sim/src/runtime.cpp
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIMTEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SIMTEST_ASAN 1
#endif

namespace {

__global__ void write_at(float* p, int index) {
  if (threadIdx.x == 0) p[index] = 1.0f;
}

constexpr int kThreads = 64;

__global__ void read_unwritten_static(float* out) {
  GP_SHARED(float, s, [kThreads]);
  out[threadIdx.x] = 2.0f * s[threadIdx.x] + 1.0f;
}

__global__ void read_unwritten_dynamic(float* out, __half* out_h) {
  GP_DYNAMIC_SHARED(float, s);
  out[threadIdx.x] = s[threadIdx.x];
  out_h[threadIdx.x] = reinterpret_cast<const __half*>(s)[threadIdx.x];
}

// Block 0 fills its static shared memory; the other blocks only read theirs.
__global__ void shared_per_block(float* out) {
  GP_SHARED(float, s, [kThreads]);
  if (blockIdx.x == 0) s[threadIdx.x] = 42.0f;
  __syncthreads();
  out[blockIdx.x * kThreads + threadIdx.x] = s[threadIdx.x];
}

using simtest::ConfigGuard;
using simtest::SimTest;

class Bounds : public SimTest {};

#ifdef SIMTEST_ASAN
#define SKIP_UNDER_ASAN()                                                                                      \
  GTEST_SKIP() << "ASan build: the simulator allocates exact sizes without guard bytes and leaves out-of-bounds " \
                  "accesses to AddressSanitizer, which aborts the process (sim/src/runtime.cpp)"
#else
#define SKIP_UNDER_ASAN() (void)0
#endif

TEST_F(Bounds, KernelWritingOnePastTheEndIsAnIllegalAddress) {
  SKIP_UNDER_ASAN();
  float* p = simtest::dev_alloc<float>(7);  // exactly 28 bytes
  GP_LAUNCH(1, 32, 0, nullptr, write_at)(p, 7);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  simtest::expect_fault(cudaErrorIllegalAddress,
                        {"kernel write_at", "out of bounds", "past the end of an allocation of 28 bytes"});
  simtest::reset_after_fault();
}

TEST_F(Bounds, KernelWritingBeforeTheStartIsAnIllegalAddress) {
  SKIP_UNDER_ASAN();
  float* p = simtest::dev_alloc<float>(7);
  GP_LAUNCH(1, 32, 0, nullptr, write_at)(p, -1);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  simtest::expect_fault(cudaErrorIllegalAddress, {"kernel write_at", "out of bounds", "before the start"});
  simtest::reset_after_fault();
}

TEST_F(Bounds, KernelWritingTheLastElementIsFine) {
  float* p = simtest::dev_alloc<float>(7);
  GP_LAUNCH(1, 32, 0, nullptr, write_at)(p, 6);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << gpsim::last_fault();
  EXPECT_EQ(simtest::dev_download(p, 7)[6], 1.0f);
}

TEST_F(Bounds, CopiesPastTheEndOfAnAllocationAreInvalidValues) {
  float* p = simtest::dev_alloc<float>(7);
  float* q = simtest::dev_alloc<float>(8);
  std::vector<float> h(8, 3.0f);
  EXPECT_EQ(cudaMemcpy(p, h.data(), 8 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // not sticky
  EXPECT_EQ(cudaMemcpy(p + 4, h.data(), 4 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(h.data(), p, 8 * sizeof(float), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(q, p, 8 * sizeof(float), cudaMemcpyDeviceToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(p, q, 8 * sizeof(float), cudaMemcpyDeviceToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(p, h.data(), 8 * sizeof(float), cudaMemcpyDefault), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpyAsync(p, h.data(), 8 * sizeof(float), cudaMemcpyHostToDevice, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemset(p, 0, 8 * sizeof(float)), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  // nothing was copied, not even the part that fits
  const std::vector<float> back = simtest::dev_download(p, 7);
  for (float v : back) EXPECT_TRUE(std::isnan(v));
  // what fits is fine
  EXPECT_EQ(cudaMemcpy(p, h.data(), 7 * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(p + 3, h.data(), 4 * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

class Poison : public SimTest {};

TEST_F(Poison, FreshAllocationsRead0xffNaNAsF32AndF16) {
  constexpr size_t kBytes = 1000;
  unsigned char* p = simtest::dev_alloc<unsigned char>(kBytes);
  const std::vector<unsigned char> b = simtest::dev_download(p, kBytes);
  for (size_t i = 0; i < kBytes; i++) ASSERT_EQ(b[i], 0xff) << i;
  float f;
  std::memcpy(&f, b.data(), 4);
  EXPECT_TRUE(std::isnan(f));
  uint16_t h;
  std::memcpy(&h, b.data(), 2);
  EXPECT_TRUE(std::isnan(simtest::f16_value(h)));
  EXPECT_TRUE(std::isnan(__half2float(*reinterpret_cast<const __half*>(b.data()))));

  // an allocation never inherits what a freed one held
  std::vector<float> ones(kBytes / 4, 1.0f);
  EXPECT_EQ(cudaMemcpy(p, ones.data(), kBytes, cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaSuccess);
  const float* again = simtest::dev_alloc<float>(kBytes / 4);
  for (float v : simtest::dev_download(again, kBytes / 4)) ASSERT_TRUE(std::isnan(v));
}

TEST_F(Poison, UnwrittenStaticSharedMemoryMakesNaN) {
  float* out = simtest::dev_alloc<float>(kThreads);
  GP_LAUNCH(1, kThreads, 0, nullptr, read_unwritten_static)(out);
  const std::vector<float> h = simtest::dev_download(out, kThreads);
  for (int i = 0; i < kThreads; i++) {
    EXPECT_TRUE(std::isnan(h[i])) << i;
    // a reference that assumed zeroed memory (2 * 0 + 1) does not match
    EXPECT_FALSE(std::fabs(h[i] - 1.0f) <= 1e-3f) << i;
  }
}

TEST_F(Poison, UnwrittenDynamicSharedMemoryMakesNaN) {
  float* out = simtest::dev_alloc<float>(kThreads);
  __half* out_h = simtest::dev_alloc<__half>(kThreads);
  GP_LAUNCH(1, kThreads, kThreads * sizeof(float), nullptr, read_unwritten_dynamic)(out, out_h);
  const std::vector<float> h = simtest::dev_download(out, kThreads);
  const std::vector<__half> hh = simtest::dev_download(out_h, kThreads);
  for (int i = 0; i < kThreads; i++) {
    EXPECT_TRUE(std::isnan(h[i])) << i;
    EXPECT_TRUE(std::isnan(__half2float(hh[i]))) << i;
  }
}

// One host thread, so every block runs on the same worker's shared-memory
// arena, one after another: block 1 sees block 0's values unless the arena is
// poisoned again for each block.
TEST_F(Poison, StaticSharedMemoryIsPoisonedAgainForEachBlock) {
  gpsim::Config c = gpsim::config();
  c.host_threads = 1;
  ConfigGuard guard(c);
  constexpr int kBlocks = 4;
  float* out = simtest::dev_alloc<float>(kBlocks * kThreads);
  GP_LAUNCH(kBlocks, kThreads, 0, nullptr, shared_per_block)(out);
  const std::vector<float> h = simtest::dev_download(out, kBlocks * kThreads);
  ASSERT_EQ(gpsim::last_fault(), "");
  for (int i = 0; i < kThreads; i++) EXPECT_EQ(h[i], 42.0f) << i;
  for (int i = kThreads; i < kBlocks * kThreads; i++) EXPECT_TRUE(std::isnan(h[i])) << "block " << i / kThreads;
}

}  // namespace
