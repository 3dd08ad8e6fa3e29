// ceilings.cu: measured bandwidth and f16 GEMM ceilings (ceilings.h). The
// method follows nvbench's BWUtil and gpt-fast's "bandwidth achieved": a
// device copy moves every byte once in and once out; a large cuBLAS GEMM is
// the FLOP/s a tensor-core kernel can reach on this device and clock state.
#include <cublas_v2.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/memory.h"
#include "kernels/ceilings.h"
#include "kernels/cuda_check.h"
#include "kernels/launch.h"
#include "kernels/device.h"
#include "kernels/device_memory.h"

namespace gp::cuda {
namespace {

constexpr int kWarmup = 2;
constexpr int kCopyReps = 10;
constexpr int kGemmReps = 5;
constexpr int64_t kMaxCopyBytes = int64_t(1) << 30;
constexpr int kMaxGemm = 8192;

// values in [-1, 1) from a hash of the index: never all zeros, finite in f16
__global__ void fill_f16_kernel(half* p, int64_t n, uint32_t seed) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    uint32_t h = (uint32_t)i * 2654435761u ^ seed;
    h ^= h >> 15, h *= 2246822519u, h ^= h >> 13;
    p[i] = __float2half((float)(h >> 8) * (1.0f / 8388608.0f) - 1.0f);
  }
}

void fill_f16(half* p, int64_t n, uint32_t seed, cudaStream_t s) {
  GP_LAUNCH(1024, 256, 0, s, fill_f16_kernel)(p, n, seed);
  GP_CUDA_CHECK(cudaGetLastError());
}

// RAII for the events and stream of one measurement
struct Timing {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  Timing() {
    GP_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    GP_CUDA_CHECK(cudaEventCreate(&start));
    GP_CUDA_CHECK(cudaEventCreate(&stop));
  }
  ~Timing() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaStreamDestroy(stream);
  }
  // best (shortest) seconds of `reps` timed calls of f after `warmup` untimed ones
  template <class F>
  double best_of(int warmup, int reps, F&& f) {
    for (int i = 0; i < warmup; i++) f();
    GP_CUDA_CHECK(cudaStreamSynchronize(stream));
    float best_ms = 0;
    for (int r = 0; r < reps; r++) {
      GP_CUDA_CHECK(cudaEventRecord(start, stream));
      f();
      GP_CUDA_CHECK(cudaEventRecord(stop, stream));
      GP_CUDA_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      GP_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
      if (r == 0 || ms < best_ms) best_ms = ms;
    }
    GP_CHECK(best_ms > 0, "ceilings: a timed run took no measurable time");
    return best_ms / 1e3;
  }
};

}  // namespace

std::string Ceilings::how() const {
  return str("measured on this device: bandwidth = best of ", copy_reps, " device-to-device copies of ",
             human_bytes(copy_bytes), " (bytes read + written), FLOP/s = best of ", gemm_reps, " cublasGemmEx ",
             gemm_m, "x", gemm_n, "x", gemm_k, " f16 x f16 -> f16 with f32 accumulation; ", kWarmup,
             " untimed warm-up runs each");
}

Ceilings measure_ceilings(int device) {
  std::string why;
  GP_CHECK(device_count(&why) > device, "ceilings: ", why.empty() ? str("no CUDA device ", device) : why);
  GP_CUDA_CHECK(cudaSetDevice(device));
  DeviceAllocator alloc;
  Timing t;
  Ceilings c;
  size_t free_b = 0, total_b = 0;
  GP_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));

  // bandwidth: src -> dst, each min(1 GiB, free / 4), a multiple of 1 MiB
  c.copy_bytes = std::min<int64_t>(kMaxCopyBytes, (int64_t)free_b / 4) & ~((int64_t(1) << 20) - 1);
  GP_CHECK(c.copy_bytes >= (int64_t(64) << 20), "ceilings: only ", human_bytes((int64_t)free_b),
           " of device memory is free; the bandwidth ceiling needs 2 x 64 MiB at least");
  {
    DeviceBuffer src(alloc, (size_t)c.copy_bytes, MemCategory::Workspace, "bandwidth ceiling source");
    DeviceBuffer dst(alloc, (size_t)c.copy_bytes, MemCategory::Workspace, "bandwidth ceiling destination");
    fill_f16(src.as<half>(), c.copy_bytes / 2, 1, t.stream);
    c.copy_reps = kCopyReps;
    const double s = t.best_of(kWarmup, kCopyReps, [&] {
      GP_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), (size_t)c.copy_bytes, cudaMemcpyDeviceToDevice, t.stream));
    });
    c.bandwidth_bytes_per_s = 2.0 * (double)c.copy_bytes / s;
  }

  // FLOP/s: C (n, n) f16 = A (n, n) f16 * B (n, n) f16, f32 accumulation
  int n = kMaxGemm;
  while (n > 1024 && 3 * (int64_t)n * n * 2 > (int64_t)free_b / 4) n /= 2;
  GP_CHECK(3 * (int64_t)n * n * 2 <= (int64_t)free_b / 2, "ceilings: only ", human_bytes((int64_t)free_b),
           " of device memory is free; the GEMM ceiling needs ", human_bytes(3 * (int64_t)n * n * 2));
  {
    const size_t mat = (size_t)n * n * 2;
    DeviceBuffer a(alloc, mat, MemCategory::Workspace, "GEMM ceiling A");
    DeviceBuffer b(alloc, mat, MemCategory::Workspace, "GEMM ceiling B");
    DeviceBuffer d(alloc, mat, MemCategory::Workspace, "GEMM ceiling C");
    fill_f16(a.as<half>(), (int64_t)n * n, 2, t.stream);
    fill_f16(b.as<half>(), (int64_t)n * n, 3, t.stream);
    cublasHandle_t h = nullptr;
    GP_CUBLAS_CHECK(cublasCreate(&h));
    try {
      GP_CUBLAS_CHECK(cublasSetStream(h, t.stream));
      const float alpha = 1.0f / n, beta = 0.0f;  // keeps the f16 output in range
      c.gemm_m = c.gemm_n = c.gemm_k = n;
      c.gemm_reps = kGemmReps;
      const double s = t.best_of(kWarmup, kGemmReps, [&] {
        GP_CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a.get(), CUDA_R_16F, n, b.get(),
                                    CUDA_R_16F, n, &beta, d.get(), CUDA_R_16F, n, CUBLAS_COMPUTE_32F,
                                    CUBLAS_GEMM_DEFAULT));
      });
      c.fp16_flops_per_s = 2.0 * n * (double)n * n / s;
    } catch (...) {
      cublasDestroy(h);
      throw;
    }
    cublasDestroy(h);
  }
  GP_CUDA_CHECK(cudaStreamSynchronize(t.stream));
  return c;
}

TheoreticalPeaks theoretical_peaks(int device) {
  std::string why;
  GP_CHECK(device_count(&why) > device, "theoretical peaks: ", why.empty() ? str("no CUDA device ", device) : why);
  int mem_khz = 0, bus_bits = 0, sm_khz = 0, sms = 0, major = 0, minor = 0;
  GP_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device));
  GP_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  GP_CUDA_CHECK(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, device));
  GP_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  GP_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  GP_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  // dense f16 tensor-core FLOPs per clock per SM, the highest of each generation's
  // parts (T4 1024; A100 2048; H100/H200 4096): an upper bound, not a spec sheet
  const int cc = major * 10 + minor;
  const double per_sm_clk = cc >= 90 ? 4096 : cc >= 80 ? 2048 : 1024;
  TheoreticalPeaks p;
  p.bandwidth_bytes_per_s = 2.0 * mem_khz * 1e3 * bus_bits / 8.0;
  p.fp16_flops_per_s = per_sm_clk * sms * sm_khz * 1e3;
  return p;
}

int kernel_ptx_version(int device) {
  GP_CUDA_CHECK(cudaSetDevice(device));
  cudaFuncAttributes a{};
  GP_CUDA_CHECK(cudaFuncGetAttributes(&a, fill_f16_kernel));
  return a.ptxVersion;
}

}  // namespace gp::cuda
