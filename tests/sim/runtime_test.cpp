// runtime_test.cpp: the host side of the simulated device: stream ordering in
// deferred mode, graph capture and its rules, device properties, launch
// configuration limits and events.
#include <cmath>
#include <cstring>

#include "tests/sim/sim_test_util.h"

namespace {

constexpr int kN = 64;

__global__ void copy_kernel(float* dst, const float* src, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dst[i] = src[i];
}
__global__ void add_kernel(float* x, float v, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += v;
}
__global__ void scale_kernel(float* x, float s, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= s;
}

std::vector<float> iota_values(int n) {
  std::vector<float> h(n);
  for (int i = 0; i < n; i++) h[i] = (float)i + 0.5f;
  return h;
}

// deferred streams regardless of GOLDPATH_SIM_STREAMS
gpsim::Config deferred() {
  gpsim::Config c = gpsim::config();
  c.streams = gpsim::StreamMode::kDeferred;
  return c;
}

using simtest::ConfigGuard;
using simtest::SimTest;

class Streams : public SimTest {};

// CUDA's pageable-copy semantics (Runtime API, "API synchronization
// behavior"): cudaMemcpy from pageable host memory to the device returns once
// the data is staged for DMA, before it need have reached device memory, and
// it runs on the legacy default stream, with which a cudaStreamNonBlocking
// stream does not synchronize. So a kernel on such a stream, synchronized on
// its own, may read the destination's old contents. The simulator in
// deferred mode models exactly that: the copy runs only when the legacy
// stream is waited for, and the kernel reads poison.
TEST_F(Streams, NonBlockingStreamIsNotOrderedAfterAPageableCopy) {
  ConfigGuard guard(deferred());
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  const std::vector<float> h = iota_values(kN);
  float* src = simtest::dev_alloc<float>(kN);
  float* dst = simtest::dev_alloc<float>(kN);
  ASSERT_EQ(cudaMemcpy(src, h.data(), kN * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  GP_LAUNCH(1, kN, 0, s, copy_kernel)(dst, src, kN);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  std::vector<float> got(kN);
  ASSERT_EQ(cudaMemcpy(got.data(), dst, kN * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  for (int i = 0; i < kN; i++) EXPECT_TRUE(std::isnan(got[i])) << i << ": the kernel ran after the copy";
  // the copy itself did complete once the legacy stream was waited for
  EXPECT_EQ(simtest::dev_download(src, kN), h);
}

TEST_F(Streams, AsyncCopyOnTheSameStreamIsOrdered) {
  ConfigGuard guard(deferred());
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  const std::vector<float> h = iota_values(kN);
  float* src = simtest::dev_alloc<float>(kN);
  float* dst = simtest::dev_alloc<float>(kN);
  ASSERT_EQ(cudaMemcpyAsync(src, h.data(), kN * sizeof(float), cudaMemcpyHostToDevice, s), cudaSuccess);
  GP_LAUNCH(1, kN, 0, s, copy_kernel)(dst, src, kN);
  std::vector<float> got(kN);
  ASSERT_EQ(cudaMemcpyAsync(got.data(), dst, kN * sizeof(float), cudaMemcpyDeviceToHost, s), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(got, h);
}

// a blocking stream is ordered after the legacy stream's copy
TEST_F(Streams, BlockingStreamIsOrderedAfterAPageableCopy) {
  ConfigGuard guard(deferred());
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  const std::vector<float> h = iota_values(kN);
  float* src = simtest::dev_alloc<float>(kN);
  float* dst = simtest::dev_alloc<float>(kN);
  ASSERT_EQ(cudaMemcpy(src, h.data(), kN * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  GP_LAUNCH(1, kN, 0, s, copy_kernel)(dst, src, kN);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  std::vector<float> got(kN);
  ASSERT_EQ(cudaMemcpy(got.data(), dst, kN * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(got, h);
}

class Graphs : public SimTest {};

TEST_F(Graphs, CaptureRecordsLaunchesAndReplaysThemWithTheCapturedArguments) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  const std::vector<float> h = iota_values(kN);
  float* x = simtest::dev_upload(h);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const int64_t before = gpsim::launches_executed();

  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaSuccess);
  float add = 1.0f;
  GP_LAUNCH(1, kN, 0, s, add_kernel)(x, add, kN);
  add = 100.0f;  // the graph keeps the value the launch was given
  GP_LAUNCH(1, kN, 0, s, scale_kernel)(x, 2.0f, kN);
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  ASSERT_EQ(cudaStreamIsCapturing(s, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusActive);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
  ASSERT_NE(graph, nullptr);
  ASSERT_EQ(cudaStreamIsCapturing(s, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusNone);

  // capture ran nothing
  EXPECT_EQ(simtest::dev_download(x, kN), h);
  EXPECT_EQ(gpsim::launches_executed(), before);

  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(gpsim::launches_executed(), before + 4);
  const std::vector<float> got = simtest::dev_download(x, kN);
  for (int i = 0; i < kN; i++) EXPECT_EQ(got[i], ((h[i] + 1.0f) * 2.0f + 1.0f) * 2.0f) << i;
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
}

// Begins a capture on s with one launch recorded, runs `refused` (which CUDA
// refuses during capture), and checks that the capture ends invalidated.
template <class F>
void expect_capture_invalidated(F refused, const char* what) {
  SCOPED_TRACE(what);
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  const std::vector<float> h = iota_values(kN);
  float* x = simtest::dev_upload(h);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaSuccess);
  GP_LAUNCH(1, kN, 0, s, add_kernel)(x, 1.0f, kN);
  EXPECT_EQ(refused(x), cudaErrorStreamCaptureUnsupported);
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  ASSERT_EQ(cudaStreamIsCapturing(s, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
  cudaGraph_t graph = reinterpret_cast<cudaGraph_t>(0x1);
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);
  EXPECT_EQ(cudaGetLastError(), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  // the recorded launch never runs, and the stream works again
  EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(simtest::dev_download(x, kN), h);
  GP_LAUNCH(1, kN, 0, s, add_kernel)(x, 1.0f, kN);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(simtest::dev_download(x, kN)[0], h[0] + 1.0f);
}

TEST_F(Graphs, MallocDuringCaptureIsRefusedAndInvalidatesIt) {
  expect_capture_invalidated(
      [](float*) {
        void* p = nullptr;
        return cudaMalloc(&p, 256);
      },
      "cudaMalloc");
}

TEST_F(Graphs, SynchronousMemcpyDuringCaptureIsRefusedAndInvalidatesIt) {
  expect_capture_invalidated(
      [](float* x) {
        const std::vector<float> h(kN, 7.0f);
        return cudaMemcpy(x, h.data(), kN * sizeof(float), cudaMemcpyHostToDevice);
      },
      "cudaMemcpy");
}

class Device : public SimTest {};

TEST_F(Device, PropertiesOfTheDefaultT4AndOfTheH200) {
  gpsim::Config c = gpsim::config();
  c.gpu = gpsim::Config{}.gpu;  // the default
  {
    ConfigGuard guard(c);
    cudaDeviceProp p{};
    ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
    EXPECT_EQ(p.major * 10 + p.minor, 75);
    EXPECT_EQ(p.multiProcessorCount, 40);
    EXPECT_TRUE(simtest::Contains(p.name, "T4"));
    EXPECT_EQ(p.sharedMemPerBlock, 48 * 1024u);
    EXPECT_EQ(p.sharedMemPerBlockOptin, 64 * 1024u);
    EXPECT_EQ(p.warpSize, 32);
    EXPECT_EQ(p.maxThreadsPerBlock, 1024);
    int v = 0;
    ASSERT_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 0), cudaSuccess);
    EXPECT_EQ(v, 40);
  }
  c.gpu = gpsim::Gpu::kH200;
  ConfigGuard guard(c);
  cudaDeviceProp p{};
  ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
  EXPECT_EQ(p.major * 10 + p.minor, 90);
  EXPECT_EQ(p.multiProcessorCount, 132);
  EXPECT_TRUE(simtest::Contains(p.name, "H200"));
  EXPECT_EQ(p.sharedMemPerBlockOptin, 227 * 1024u);
  int major = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0), cudaSuccess);
  EXPECT_EQ(major, 9);
  EXPECT_TRUE(simtest::Contains(gpsim::describe(), "sm_90"));
  EXPECT_EQ(cudaGetDeviceProperties(&p, 1), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
}

TEST_F(Device, LaunchConfigurationBeyondTheLimitsIsInvalid) {
  float* x = simtest::dev_upload(iota_values(kN));
  const int64_t before = gpsim::launches_executed();
  GP_LAUNCH(1, 1025, 0, nullptr, add_kernel)(x, 1.0f, kN);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // not sticky
  GP_LAUNCH(1, dim3(32, 32, 2), 0, nullptr, add_kernel)(x, 1.0f, kN);  // 2048 threads
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  GP_LAUNCH(1, dim3(1, 1, 65), 0, nullptr, add_kernel)(x, 1.0f, kN);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  GP_LAUNCH(0, 32, 0, nullptr, add_kernel)(x, 1.0f, kN);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  GP_LAUNCH(dim3(1, 65536), 32, 0, nullptr, add_kernel)(x, 1.0f, kN);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(gpsim::launches_executed(), before);  // none of them ran
  GP_LAUNCH(1, 1024, 0, nullptr, add_kernel)(x, 1.0f, kN);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(simtest::dev_download(x, kN)[0], 1.5f);
}

class Events : public SimTest {};

TEST_F(Events, ElapsedTimeIsNonNegative) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  cudaEvent_t start = nullptr, stop = nullptr, untimed = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&stop), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming), cudaSuccess);
  float* x = simtest::dev_upload(iota_values(kN));
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(start, s), cudaSuccess);
  for (int r = 0; r < 4; r++) GP_LAUNCH(1, kN, 0, s, add_kernel)(x, 1.0f, kN);
  ASSERT_EQ(cudaEventRecord(stop, s), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(untimed, s), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(stop), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(stop), cudaSuccess);
  float ms = -1.0f;
  ASSERT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_GE(ms, 0.0f);
  EXPECT_TRUE(std::isfinite(ms));
  ASSERT_EQ(cudaEventSynchronize(untimed), cudaSuccess);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, untimed), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(simtest::dev_download(x, kN)[0], 4.5f);
  EXPECT_EQ(cudaEventDestroy(start), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(stop), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(untimed), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
}

}  // namespace
