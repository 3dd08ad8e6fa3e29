// device.h: CUDA device discovery. A machine with the toolkit but no driver
// (cudaErrorInsufficientDriver) or no GPU counts as "no device", with the reason.
#pragma once
#include <string>

namespace gp::cuda {

struct DeviceInfo {
  int index = -1;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  size_t total_memory = 0;
  int driver_version = 0, runtime_version = 0;
};

// Number of usable devices; 0 with *why set when there is none.
int device_count(std::string* why);
DeviceInfo device_info(int index);  // throws gp::Error

}  // namespace gp::cuda
