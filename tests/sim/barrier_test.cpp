// barrier_test.cpp: __syncthreads that can never open. On a GPU these hang or
// corrupt silently; the simulator must report a fault naming the kernel, the
// block and the barrier, and must not hang (each test runs under a watchdog).
#include "tests/sim/sim_test_util.h"

namespace {

constexpr int kThreads = 64;

// In block 1 only the even threads reach the first barrier; the odd ones go on
// to the second, which every thread of every block reaches.
__global__ void divergent_barrier(float* out) {
  const int i = threadIdx.x;
  if (blockIdx.x == 1 && i % 2 == 0) __syncthreads();
  __syncthreads();
  out[blockIdx.x * blockDim.x + i] = 1.0f;
}

// Only the even threads call __syncthreads; the odd ones skip it and exit.
__global__ void even_threads_barrier(float* out) {
  const int i = threadIdx.x;
  if (i % 2 == 0) __syncthreads();
  out[i] = 1.0f;
}

// Thread 5 returns before the barrier that the others reach.
__global__ void early_return_barrier(float* out) {
  GP_SHARED(float, s, [kThreads]);
  const int i = threadIdx.x;
  if (i == 5) return;
  s[i] = (float)i;
  __syncthreads();
  out[i] = s[(i + 1) % kThreads];
}

// A control: every thread reaches every barrier, several times.
__global__ void uniform_barriers(int* out) {
  GP_SHARED(int, s, [kThreads]);
  const int i = threadIdx.x;
  s[i] = i;
  for (int r = 0; r < 3; r++) {
    __syncthreads();
    const int v = s[(i + 1) % kThreads];
    __syncthreads();
    s[i] = v;
  }
  __syncthreads();
  out[i] = s[i];
}

using simtest::SimTest;
using simtest::Watchdog;

class Barrier : public SimTest {};

TEST_F(Barrier, DivergentSyncthreadsIsAFaultNamingKernelBlockAndBarrier) {
  Watchdog dog("divergent __syncthreads");
  float* out = simtest::dev_alloc<float>(2 * kThreads);
  GP_LAUNCH(2, kThreads, 0, nullptr, divergent_barrier)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  const std::string f = simtest::expect_fault(
      cudaErrorLaunchFailure, {"kernel divergent_barrier", "block (1,0,0)", "divergent __syncthreads", "barrier_test.cpp"});
  EXPECT_FALSE(simtest::Contains(f, "block (0,0,0)"));  // block 0 is fine
  simtest::reset_after_fault();
}

TEST_F(Barrier, SyncthreadsCalledByTheEvenThreadsOnlyIsAFault) {
  Watchdog dog("__syncthreads of the even threads");
  float* out = simtest::dev_alloc<float>(kThreads);
  GP_LAUNCH(1, kThreads, 0, nullptr, even_threads_barrier)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  simtest::expect_fault(cudaErrorLaunchFailure, {"kernel even_threads_barrier", "block (0,0,0)", "__syncthreads",
                                                 "reached by 32 of 64 threads", "exited"});
  simtest::reset_after_fault();
}

TEST_F(Barrier, ThreadThatExitsBeforeABarrierIsAFault) {
  Watchdog dog("__syncthreads after an early return");
  float* out = simtest::dev_alloc<float>(kThreads);
  GP_LAUNCH(1, kThreads, 0, nullptr, early_return_barrier)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  simtest::expect_fault(cudaErrorLaunchFailure, {"kernel early_return_barrier", "block (0,0,0)", "__syncthreads",
                                                 "thread (5,0,0)", "exited"});
  simtest::reset_after_fault();
}

TEST_F(Barrier, UniformBarriersPass) {
  Watchdog dog("uniform __syncthreads");
  int* out = simtest::dev_alloc<int>(kThreads);
  GP_LAUNCH(1, kThreads, 0, nullptr, uniform_barriers)(out);
  const std::vector<int> h = simtest::dev_download(out, kThreads);
  EXPECT_EQ(gpsim::last_fault(), "");
  for (int i = 0; i < kThreads; i++) EXPECT_EQ(h[i], (i + 3) % kThreads) << i;
}

}  // namespace
