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
