// internal.h: what the simulator's runtime (runtime.cpp) and its executor
// (exec.cpp) share. Not part of the simulated CUDA API.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gpsim/launch.h"
#include "gpsim/sim.h"
#include "gpsim/types.h"

namespace gpsim::internal {

struct Launch {
  const char* name = "";
  const void* func = nullptr;
  dim3 grid, block;
  size_t dynamic_smem = 0;
  size_t max_dynamic_smem = 0;  // the kernel's cudaFuncAttributeMaxDynamicSharedMemorySize
  std::shared_ptr<const KernelBody> body;
};

struct Fault {
  cudaError_t code = cudaSuccess;
  std::string text;
};

// Limits of the simulated GPU that the executor enforces.
struct DeviceLimits {
  size_t smem_per_block = 48 * 1024;  // static shared memory, and the default total
  size_t smem_optin = 64 * 1024;      // the most a kernel can opt in to
};
DeviceLimits device_limits();

// Runs every block of the launch under one schedule. False with *f set on a
// fault (barrier, warp collective, shared memory, a kernel_fault).
// blocks: the linear block indices to run (null: every block).
bool run_launch(const Launch& l, const Schedule& s, int host_threads, Fault* f,
                const std::vector<uint64_t>* blocks = nullptr);

// Addresses that kernels updated through atomics during the current launch:
// their final value depends on the order of blocks, so the schedule comparison
// of a sample of blocks leaves them out.
void note_atomic(const void* p, size_t n);
std::vector<std::pair<uintptr_t, size_t>> take_atomics();

// Device memory, for the schedule comparison (runtime.cpp).
void for_each_allocation(const std::function<void(unsigned char* p, size_t n)>& fn);
// "" when no allocation's guard bytes were written, else what was overrun
std::string check_guards();

// static shared memory the kernel used in its last run (cudaFuncGetAttributes)
void note_static_smem(const void* func, size_t bytes);
size_t static_smem_of(const void* func);

}  // namespace gpsim::internal
