// gpu_info.h: what a record says about the GPU: name, SMs, memory, driver and
// runtime (kernels/device.h), plus SM and memory clocks and temperature read
// through NVML, which is opened with dlopen at run time and never linked (a
// build machine has no driver). Without NVML those readings are absent and
// `nvml_note` says why.
#pragma once
#include <optional>
#include <string>

#include "kernels/device.h"

namespace gp::cuda {

constexpr const char* kNvmlLibrary = "libnvidia-ml.so.1";

struct GpuSample {
  std::optional<int> sm_clock_mhz, memory_clock_mhz;  // current clocks
  std::optional<int> temperature_c;                   // GPU core temperature
  std::string nvml_note;                              // why a reading is absent; "" when all are present
};

// Clocks and temperature of CUDA device `device` now, matched to NVML's
// device by PCI bus id. Never throws: an absent library, driver or device
// leaves the fields empty with the reason.
GpuSample sample_gpu(int device = 0, const std::string& nvml_library = kNvmlLibrary);

struct GpuInfo {
  DeviceInfo device;
  GpuSample sample;  // taken when the info was read
};
GpuInfo gpu_info(int device = 0);  // throws gp::Error without a device

}  // namespace gp::cuda
