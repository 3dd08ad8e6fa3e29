// device.cu: CUDA device discovery (device.h).
#include "kernels/cuda_check.h"
#include "kernels/device.h"

namespace gp::cuda {

int device_count(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error
    if (why) *why = std::string("no CUDA device: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device: cudaGetDeviceCount found none";
  return n;
}

DeviceInfo device_info(int index) {
  DeviceInfo d;
  cudaDeviceProp p{};
  GP_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  d.index = index;
  d.name = p.name;
  d.cc_major = p.major;
  d.cc_minor = p.minor;
  d.sm_count = p.multiProcessorCount;
  d.total_memory = p.totalGlobalMem;
  GP_CUDA_CHECK(cudaDriverGetVersion(&d.driver_version));
  GP_CUDA_CHECK(cudaRuntimeGetVersion(&d.runtime_version));
  return d;
}

}  // namespace gp::cuda
