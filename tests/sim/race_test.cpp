// race_test.cpp: the simulator's race check. Every launch runs under each
// configured schedule from the same device memory; memory that differs
// between two schedules is a fault naming the kernel (a race between the
// threads of a block). A kernel that lacks a __syncthreads must be caught; the
// same kernel with the barrier must give the same bits under every schedule.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tests/sim/sim_test_util.h"

namespace {

constexpr int kN = 64;  // threads per block

// Thread i writes s[i], then reads its neighbour's s[(i+1) % n] WITHOUT a
// barrier: what it reads depends on whether the neighbour has run yet.
__global__ void neighbour_no_barrier(float* out) {
  GP_SHARED(float, s, [kN]);
  const int i = threadIdx.x;
  s[i] = (float)i;
  out[blockIdx.x * kN + i] = s[(i + 1) % kN];
}

// The same with the barrier the exchange needs.
__global__ void neighbour_with_barrier(float* out) {
  GP_SHARED(float, s, [kN]);
  const int i = threadIdx.x;
  s[i] = (float)i + 1000.0f * (float)blockIdx.x;
  __syncthreads();
  out[blockIdx.x * kN + i] = s[(i + 1) % kN];
}

using simtest::ConfigGuard;
using simtest::SimTest;
using simtest::with_schedules;

class Race : public SimTest {};

TEST_F(Race, MissingBarrierIsCaughtByTwoSchedules) {
  ConfigGuard guard(with_schedules({"forward", "shuffle:1"}));
  float* out = simtest::dev_alloc<float>(kN);
  GP_LAUNCH(1, kN, 0, nullptr, neighbour_no_barrier)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  const std::string f =
      simtest::expect_fault(cudaErrorLaunchFailure, {"neighbour_no_barrier", "schedule", "forward", "shuffle:1"});
  EXPECT_TRUE(simtest::Contains(f, "race"));
  // sticky until reset, as in CUDA
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  simtest::reset_after_fault();
}

// Why two schedules: under one, the racy kernel is deterministic and nothing
// compares it. Forward order runs thread i to its end before thread i+1
// starts, so every thread but the last reads its neighbour's poison.
TEST_F(Race, OneScheduleAloneDoesNotSeeTheRace) {
  ConfigGuard guard(with_schedules({"forward"}));
  float* out = simtest::dev_alloc<float>(kN);
  GP_LAUNCH(1, kN, 0, nullptr, neighbour_no_barrier)(out);
  const std::vector<float> h = simtest::dev_download(out, kN);
  for (int i = 0; i + 1 < kN; i++) EXPECT_TRUE(std::isnan(h[i])) << i;
  EXPECT_EQ(h[kN - 1], 0.0f);
}

TEST_F(Race, WithTheBarrierEverySchedulePassesWithTheSameBits) {
  constexpr int kBlocks = 4;
  std::vector<float> want(kBlocks * kN);
  for (int b = 0; b < kBlocks; b++)
    for (int i = 0; i < kN; i++) want[b * kN + i] = (float)((i + 1) % kN) + 1000.0f * (float)b;

  std::vector<std::vector<float>> got;
  for (const char* s : {"forward", "reverse", "shuffle:7"}) {
    SCOPED_TRACE(s);
    ConfigGuard guard(with_schedules({s}));
    float* out = simtest::dev_alloc<float>(kBlocks * kN);
    GP_LAUNCH(kBlocks, kN, 0, nullptr, neighbour_with_barrier)(out);
    got.push_back(simtest::dev_download(out, kBlocks * kN));
    EXPECT_EQ(gpsim::last_fault(), "");
    for (int i = 0; i < kBlocks * kN; i++) ASSERT_EQ(got.back()[i], want[i]) << i;
  }
  for (size_t k = 1; k < got.size(); k++)
    EXPECT_EQ(std::memcmp(got[0].data(), got[k].data(), got[0].size() * sizeof(float)), 0) << k;

  // and all three in one configuration: the simulator's own comparison passes
  ConfigGuard guard(with_schedules({"forward", "reverse", "shuffle:7"}));
  float* out = simtest::dev_alloc<float>(kBlocks * kN);
  GP_LAUNCH(kBlocks, kN, 0, nullptr, neighbour_with_barrier)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << gpsim::last_fault();
  const std::vector<float> h = simtest::dev_download(out, kBlocks * kN);
  EXPECT_EQ(std::memcmp(h.data(), want.data(), h.size() * sizeof(float)), 0);
}

}  // namespace

namespace {

// A grid larger than the sample the other schedules run (sim/src/runtime.cpp,
// kSampledBlocks): the race is still caught, and the result of a correct
// kernel with a cross-block atomic (whose final value depends on which blocks
// ran) is not taken for one.
__global__ void count_blocks(int* count, float* out) {
  GP_SHARED(float, s, [kN]);
  const int i = threadIdx.x;
  s[i] = (float)i;
  __syncthreads();
  out[blockIdx.x * kN + i] = s[(i + 1) % kN];
  if (i == 0) atomicAdd(count, 1);
}

TEST_F(Race, MissingBarrierInALargeGridIsCaughtOnTheSample) {
  constexpr int kBlocks = 100;
  ConfigGuard guard(with_schedules({"forward", "shuffle:1"}));
  float* out = simtest::dev_alloc<float>(kBlocks * kN);
  GP_LAUNCH(kBlocks, kN, 0, nullptr, neighbour_no_barrier)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  const std::string f = simtest::expect_fault(cudaErrorLaunchFailure, {"neighbour_no_barrier", "sample"});
  simtest::reset_after_fault();
}

TEST_F(Race, CrossBlockAtomicsInALargeGridAreNotARace) {
  constexpr int kBlocks = 100;
  ConfigGuard guard(with_schedules({"forward", "shuffle:1"}));
  float* out = simtest::dev_alloc<float>(kBlocks * kN);
  int* count = simtest::dev_alloc<int>(1);
  const int zero = 0;
  ASSERT_EQ(cudaMemcpy(count, &zero, sizeof zero, cudaMemcpyHostToDevice), cudaSuccess);
  GP_LAUNCH(kBlocks, kN, 0, nullptr, count_blocks)(count, out);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess) << gpsim::last_fault();
  EXPECT_EQ(simtest::dev_download(count, 1)[0], kBlocks);  // the whole grid's count, not the sample's
}

// Partial grids (Config::partial_blocks): a launch of a matching kernel runs
// only the first, the last and a seeded sample of its blocks, under every
// schedule; the other blocks' outputs keep the poison of fresh device memory.
// A kernel whose name does not match runs whole.
__global__ void mark_block(float* out) { out[blockIdx.x * kN + threadIdx.x] = (float)blockIdx.x; }

TEST_F(Race, PartialGridRunsTheFirstTheLastAndASampleOfBlocks) {
  constexpr int kBlocks = 100, kRun = 8;
  gpsim::Config c = with_schedules({"forward", "shuffle:1"});
  c.partial_blocks = kRun;
  c.partial_kernel = "mark_block";
  ConfigGuard guard(c);
  const int64_t before = gpsim::partial_launches_executed();
  float* out = simtest::dev_alloc<float>(kBlocks * kN);
  GP_LAUNCH(kBlocks, kN, 0, nullptr, mark_block)(out);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess) << gpsim::last_fault();
  EXPECT_EQ(gpsim::partial_launches_executed(), before + 1);
  const std::vector<float> h = simtest::dev_download(out, kBlocks * kN);
  const std::vector<uint64_t> ran = gpsim::sample_of_blocks(kBlocks, kRun, 0);
  ASSERT_EQ(ran.size(), (size_t)kRun);
  EXPECT_EQ(ran.front(), 0u);
  EXPECT_EQ(ran.back(), (uint64_t)kBlocks - 1);
  int written = 0;
  for (int b = 0; b < kBlocks; b++) {
    const bool in_sample = std::find(ran.begin(), ran.end(), (uint64_t)b) != ran.end();
    for (int i = 0; i < kN; i++) {
      uint32_t bits;
      std::memcpy(&bits, &h[b * kN + i], 4);
      if (in_sample) {
        EXPECT_EQ(h[b * kN + i], (float)b) << "block " << b << " thread " << i;
      } else {
        EXPECT_EQ(bits, 0xffffffffu) << "block " << b << " ran although it is not in the sample";
      }
    }
    written += in_sample;
  }
  EXPECT_EQ(written, kRun);
  EXPECT_NE(gpsim::describe().find("partial grids: 8 blocks"), std::string::npos) << gpsim::describe();

  // another kernel runs its whole grid
  GP_LAUNCH(kBlocks, kN, 0, nullptr, count_blocks)(simtest::dev_alloc<int>(1), out);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess) << gpsim::last_fault();
  EXPECT_EQ(gpsim::partial_launches_executed(), before + 1);
}

}  // namespace
