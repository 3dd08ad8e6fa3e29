// skip.h: GPU tests skip, saying why, on a machine without a usable device.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "kernels/device.h"

#define SKIP_WITHOUT_DEVICE()                                           \
  do {                                                                  \
    std::string why_;                                                   \
    if (::gp::cuda::device_count(&why_) == 0) GTEST_SKIP() << why_;     \
  } while (0)

// The simulated device (GOLDPATH_SIM builds of these tests) runs goldpath's
// kernels only: cuBLAS and cuDNN cannot run on the CPU, and speed measured on
// it is no GPU's speed. Tests of those skip there, saying so.
#if defined(GOLDPATH_SIM)
#define SKIP_ON_SIMULATOR(what) GTEST_SKIP() << what << ": not available on the simulated device"
#else
#define SKIP_ON_SIMULATOR(what) \
  do {                          \
  } while (0)
#endif

namespace gptest {
// the registry name of goldpath's own CUDA backend in this build of the tests
#if defined(GOLDPATH_SIM)
inline const char* const kCudaBackend = "cuda-sim";
#else
inline const char* const kCudaBackend = "cuda";
#endif
}  // namespace gptest
