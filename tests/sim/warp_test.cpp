// warp_test.cpp: the warp collectives against CUDA's documented results (CUDA
// C++ Programming Guide, "Warp Shuffle Functions" and "Warp Vote Functions";
// PTX ISA "shfl.sync" for the width < 32 subsections), and the faults for a
// collective whose mask names a lane that never arrives.
#include <cstdint>

#include "tests/sim/sim_test_util.h"

namespace {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kWarps = 2;
constexpr int kSlots = 18;  // results per thread

// Every thread of two warps computes kSlots results; v = 100 * warp + lane
// tells which warp and lane a shuffled value came from.
__global__ void warp_ops(int* out) {
  const int t = threadIdx.x, lane = t % 32, warp = t / 32;
  const int v = 100 * warp + lane;
  int* o = out + t * kSlots;

  int sum = v;  // butterfly sum: every lane ends with the warp's total
  for (int m = 16; m > 0; m /= 2) sum += __shfl_xor_sync(kFull, sum, m);
  o[0] = sum;
  float fs = 0.25f * (float)lane + (float)warp;
  for (int m = 1; m < 32; m *= 2) fs += __shfl_xor_sync(kFull, fs, m);
  o[1] = __float_as_int(fs);

  o[2] = __shfl_sync(kFull, v, 5);
  o[3] = __shfl_sync(kFull, v, 37);    // srcLane outside [0, 32): modulo width
  o[4] = __shfl_sync(kFull, v, 3, 8);  // lane 3 of each group of 8
  o[5] = __shfl_sync(kFull, v, 11, 8);
  o[6] = __shfl_up_sync(kFull, v, 3);
  o[7] = __shfl_up_sync(kFull, v, 3, 8);
  o[8] = __shfl_down_sync(kFull, v, 3);
  o[9] = __shfl_down_sync(kFull, v, 3, 8);
  o[10] = __shfl_down_sync(kFull, v, 1, 16);
  o[11] = __shfl_xor_sync(kFull, v, 16, 16);  // only earlier groups can be read
  o[12] = (int)__ballot_sync(kFull, lane % 3 == 0);
  o[13] = __any_sync(kFull, lane == 17 && warp == 1);
  o[14] = __all_sync(kFull, lane != 5 || warp == 0);
  // two disjoint half-warp masks at once
  o[15] = (int)(lane < 16 ? __ballot_sync(0x0000ffffu, lane & 1) : __ballot_sync(0xffff0000u, lane & 1));
  double ds = lane + 0.5;  // 8-byte shuffles
  for (int m = 16; m > 0; m /= 2) ds += __shfl_xor_sync(kFull, ds, m);
  o[16] = (int)ds;
  const uint64_t wide = ((uint64_t)(lane + 1) << 40) | (uint64_t)v;
  const uint64_t r = __shfl_sync(kFull, wide, 31 - lane);
  o[17] = (int)(r >> 40) * 1000 + (int)(r & 0xffffffffu);
}

// What CUDA documents for thread t's slot k.
int expected(int t, int k) {
  const int lane = t % 32, warp = t / 32, base = 100 * warp;
  auto val = [&](int l) { return base + l; };
  const int g8 = lane & ~7;
  switch (k) {
    case 0: return 32 * base + 496;
    case 1: return simtest::bits_of(0.25f * 496.0f + 32.0f * (float)warp);
    case 2: return val(5);
    case 3: return val(5);
    case 4: return val(g8 + 3);
    case 5: return val(g8 + 3);
    case 6: return lane >= 3 ? val(lane - 3) : val(lane);
    case 7: return lane % 8 >= 3 ? val(lane - 3) : val(lane);
    case 8: return lane + 3 < 32 ? val(lane + 3) : val(lane);
    case 9: return lane % 8 + 3 < 8 ? val(lane + 3) : val(lane);
    case 10: return lane % 16 + 1 < 16 ? val(lane + 1) : val(lane);
    case 11: return lane >= 16 ? val(lane - 16) : val(lane);
    case 12: {
      unsigned b = 0;
      for (int l = 0; l < 32; l += 3) b |= 1u << l;
      return (int)b;
    }
    case 13: return warp == 1 ? 1 : 0;
    case 14: return warp == 0 ? 1 : 0;
    case 15: return lane < 16 ? 0x0000aaaa : (int)0xaaaa0000u;
    case 16: return 512;
    case 17: return (31 - lane + 1) * 1000 + val(31 - lane);
  }
  return -1;
}

// Lane 0 skips the shuffle and exits; the other 31 wait for it.
__global__ void lane0_skips_shuffle(int* out) {
  const int lane = threadIdx.x % 32;
  int v = lane;
  if (lane != 0) v = __shfl_xor_sync(kFull, v, 1);
  out[threadIdx.x] = v;
}

// Lane 0 skips the shuffle and waits at a __syncthreads that the others would
// reach only after it.
__global__ void lane0_skips_to_barrier(int* out) {
  const int lane = threadIdx.x % 32;
  int v = lane;
  if (lane != 0) v = __shfl_down_sync(kFull, v, 1);
  __syncthreads();
  out[threadIdx.x] = v;
}

// Every lane passes a mask without lane 0, so lane 0's mask lacks its own lane.
__global__ void mask_without_own_lane(int* out) {
  out[threadIdx.x] = __shfl_sync(0xfffffffeu, (int)threadIdx.x, 1);
}

// The lower half-warp shuffles among itself but reads lane 20, outside the mask.
__global__ void reads_lane_outside_mask(int* out) {
  const int lane = threadIdx.x % 32;
  if (lane < 16) out[lane] = __shfl_sync(0x0000ffffu, lane, 20);
}

// A full-warp mask in a block of 48 threads: warp 1 has lanes 0..15 only.
__global__ void full_mask_in_partial_warp(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(kFull, (int)threadIdx.x, 1);
}

// Legitimate: the lower half-warp reduces among itself first, then the whole
// warp exchanges. The upper half arrives at the full-warp shuffle while the
// lower half still waits at its half-warp one.
__global__ void half_then_full(int* out) {
  const int lane = threadIdx.x % 32;
  int v = lane;
  if (lane < 16) v += __shfl_xor_sync(0x0000ffffu, v, 1);
  v += __shfl_xor_sync(kFull, v, 16);
  out[lane] = v;
}

using simtest::SimTest;
using simtest::Watchdog;

class Warp : public SimTest {};

TEST_F(Warp, CollectivesGiveCudasDocumentedResults) {
  constexpr int kThreads = 32 * kWarps;
  int* out = simtest::dev_alloc<int>(kThreads * kSlots);
  GP_LAUNCH(1, kThreads, 0, nullptr, warp_ops)(out);
  const std::vector<int> h = simtest::dev_download(out, kThreads * kSlots);
  ASSERT_EQ(gpsim::last_fault(), "");
  for (int t = 0; t < kThreads; t++)
    for (int k = 0; k < kSlots; k++) EXPECT_EQ(h[t * kSlots + k], expected(t, k)) << "thread " << t << " slot " << k;
}

TEST_F(Warp, LaneInTheMaskThatExitsIsNamed) {
  Watchdog dog("a shuffle that lane 0 skips");
  int* out = simtest::dev_alloc<int>(32);
  GP_LAUNCH(1, 32, 0, nullptr, lane0_skips_shuffle)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  simtest::expect_fault(cudaErrorLaunchFailure, {"kernel lane0_skips_shuffle", "__shfl_xor_sync", "mask 0xffffffff",
                                                 "lane 0, named in the mask, has exited", "warp_test.cpp"});
  simtest::reset_after_fault();
}

TEST_F(Warp, LaneInTheMaskThatWaitsAtABarrierIsNamed) {
  Watchdog dog("a shuffle that lane 0 skips for a barrier");
  int* out = simtest::dev_alloc<int>(32);
  GP_LAUNCH(1, 32, 0, nullptr, lane0_skips_to_barrier)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  simtest::expect_fault(cudaErrorLaunchFailure,
                        {"kernel lane0_skips_to_barrier", "__shfl_down_sync", "lane 0, named in the mask, waits at __syncthreads"});
  simtest::reset_after_fault();
}

TEST_F(Warp, MaskWithoutTheCallersLaneIsAFault) {
  Watchdog dog("a mask without the caller's lane");
  int* out = simtest::dev_alloc<int>(32);
  GP_LAUNCH(1, 32, 0, nullptr, mask_without_own_lane)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  simtest::expect_fault(cudaErrorLaunchFailure,
                        {"kernel mask_without_own_lane", "lane 0", "does not include its own lane"});
  simtest::reset_after_fault();
}

TEST_F(Warp, ShuffleFromALaneOutsideTheMaskIsAFault) {
  Watchdog dog("a shuffle from outside its mask");
  int* out = simtest::dev_alloc<int>(16);
  GP_LAUNCH(1, 32, 0, nullptr, reads_lane_outside_mask)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  simtest::expect_fault(cudaErrorLaunchFailure,
                        {"kernel reads_lane_outside_mask", "lane 0", "not in the shuffle's mask"});
  simtest::reset_after_fault();
}

TEST_F(Warp, FullMaskInAPartialWarpIsAFault) {
  Watchdog dog("a full mask in a partial warp");
  int* out = simtest::dev_alloc<int>(48);
  GP_LAUNCH(1, 48, 0, nullptr, full_mask_in_partial_warp)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  simtest::expect_fault(cudaErrorLaunchFailure, {"kernel full_mask_in_partial_warp", "warp 1", "names lane 16",
                                                 "no such thread"});
  simtest::reset_after_fault();
}

// A half-warp collective, then a full-warp one: legal; the simulator must let
// the half-warp complete first instead of reporting the full-warp one stuck.
TEST_F(Warp, SubsetCollectiveThenFullWarpCollectivePasses) {
  Watchdog dog("a half-warp then a full-warp shuffle");
  int* out = simtest::dev_alloc<int>(32);
  GP_LAUNCH(1, 32, 0, nullptr, half_then_full)(out);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << gpsim::last_fault();
  const std::vector<int> h = simtest::dev_download(out, 32);
  for (int l = 0; l < 32; l++) {
    auto first = [](int x) { return x < 16 ? x + (x ^ 1) : x; };
    EXPECT_EQ(h[l], first(l) + first(l ^ 16)) << l;
  }
}

}  // namespace
