// gpu_info.cpp: device facts and NVML readings (gpu_info.h). NVML's C API is
// declared here by hand (the handful of entry points used, as in nvml.h of
// the driver) and resolved with dlsym, so the build needs neither the header
// nor the library.
#include "kernels/gpu_info.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include "core/error.h"

namespace gp::cuda {
namespace {

using nvmlReturn_t = int;  // 0 = NVML_SUCCESS
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr int kNvmlClockSm = 1, kNvmlClockMem = 2;  // nvmlClockType_t
constexpr int kNvmlTemperatureGpu = 0;              // nvmlTemperatureSensors_t

struct Nvml {
  void* lib = nullptr;
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*by_pci)(const char*, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*clock)(nvmlDevice_t, int, unsigned*) = nullptr;
  nvmlReturn_t (*temperature)(nvmlDevice_t, int, unsigned*) = nullptr;
  ~Nvml() {
    if (lib) dlclose(lib);
  }
  std::string err(nvmlReturn_t r) const { return error_string ? error_string(r) : str("NVML error ", r); }
};

template <class F>
bool resolve(void* lib, const char* name, F& f) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  return f != nullptr;
}

}  // namespace

GpuSample sample_gpu(int device, const std::string& nvml_library) {
  GpuSample s;
  Nvml n;
  n.lib = dlopen(nvml_library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!n.lib) {
    const char* e = dlerror();
    s.nvml_note = str("NVML unavailable: dlopen(\"", nvml_library, "\") failed: ", e ? e : "unknown error");
    return s;
  }
  if (!resolve(n.lib, "nvmlInit_v2", n.init) || !resolve(n.lib, "nvmlShutdown", n.shutdown) ||
      !resolve(n.lib, "nvmlDeviceGetHandleByPciBusId_v2", n.by_pci) ||
      !resolve(n.lib, "nvmlDeviceGetClockInfo", n.clock) || !resolve(n.lib, "nvmlDeviceGetTemperature", n.temperature)) {
    s.nvml_note = str("NVML unavailable: ", nvml_library, " lacks an entry point goldpath uses");
    return s;
  }
  resolve(n.lib, "nvmlErrorString", n.error_string);
  char bus[64] = {};
  const cudaError_t ce = cudaDeviceGetPCIBusId(bus, sizeof bus, device);
  if (ce != cudaSuccess) {
    cudaGetLastError();
    s.nvml_note = str("NVML not queried: cudaDeviceGetPCIBusId(", device, ") failed: ", cudaGetErrorName(ce));
    return s;
  }
  const nvmlReturn_t ir = n.init();
  if (ir != 0) {
    s.nvml_note = str("NVML unavailable: nvmlInit failed: ", n.err(ir));
    return s;
  }
  nvmlDevice_t d = nullptr;
  const nvmlReturn_t dr = n.by_pci(bus, &d);
  std::string notes;
  auto note = [&](const char* what, nvmlReturn_t r) { notes += str(notes.empty() ? "" : "; ", what, ": ", n.err(r)); };
  if (dr != 0) {
    note(str("no NVML device at PCI bus id ", bus).c_str(), dr);
  } else {
    unsigned v = 0;
    nvmlReturn_t r;
    if ((r = n.clock(d, kNvmlClockSm, &v)) == 0) s.sm_clock_mhz = (int)v;
    else note("SM clock", r);
    if ((r = n.clock(d, kNvmlClockMem, &v)) == 0) s.memory_clock_mhz = (int)v;
    else note("memory clock", r);
    if ((r = n.temperature(d, kNvmlTemperatureGpu, &v)) == 0) s.temperature_c = (int)v;
    else note("temperature", r);
  }
  n.shutdown();
  if (!notes.empty()) s.nvml_note = "NVML: " + notes;
  return s;
}

GpuInfo gpu_info(int device) {
  GpuInfo g;
  g.device = device_info(device);
  g.sample = sample_gpu(device);
  return g;
}

}  // namespace gp::cuda
