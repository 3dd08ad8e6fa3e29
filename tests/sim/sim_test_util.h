// sim_test_util.h: what the simulator's own tests (tests/sim) share: a
// fixture that leaves the simulated device clean, a guard that swaps the
// simulator's configuration for one test, a watchdog for the tests that
// provoke a deadlock, and small device-memory helpers.
//
// Device memory here is never freed by RAII: several tests end in a sticky
// fault and cudaDeviceReset(), which frees every allocation, and a cudaFree of
// a pointer that reset already freed would leave an error behind for the next
// call. The fixture's reset frees everything at the end of each test instead.
#pragma once
#include <cuda_fp16.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "gpsim/sim.h"
#include "kernels/launch.h"

namespace simtest {

// Every test starts and ends with a clean device: no sticky fault, no last
// error, no allocations, streams or events left from another test.
class SimTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cudaDeviceReset(), cudaSuccess); }
  void TearDown() override { cudaDeviceReset(); }
};

// Replaces the simulator's configuration for one scope and restores the one
// before it (set_config waits for queued work both times).
class ConfigGuard {
 public:
  explicit ConfigGuard(const gpsim::Config& c) : saved_(gpsim::config()) { gpsim::set_config(c); }
  ~ConfigGuard() { gpsim::set_config(saved_); }
  ConfigGuard(const ConfigGuard&) = delete;
  ConfigGuard& operator=(const ConfigGuard&) = delete;

 private:
  gpsim::Config saved_;
};

// The current configuration with these schedules ("forward", "reverse", "shuffle:N").
inline gpsim::Config with_schedules(std::initializer_list<const char*> names) {
  gpsim::Config c = gpsim::config();
  c.schedules.clear();
  for (const char* n : names) c.schedules.push_back(gpsim::parse_schedule(n));
  return c;
}

// Ends the process if the scope does not finish within `seconds`: a test of
// the simulator's deadlock detection must fail, not hang, when the detection
// is gone. The kernels these tests run finish in milliseconds; 10 s leaves
// room for a loaded machine or a sanitizer build, and is well inside the 60 s
// ctest timeout of tests/CMakeLists.txt.
class Watchdog {
 public:
  explicit Watchdog(const char* what, int seconds = 10)
      : what_(what), seconds_(seconds), thread_([this] { watch(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void watch() {
    std::unique_lock<std::mutex> lk(mu_);
    if (!cv_.wait_for(lk, std::chrono::seconds(seconds_), [this] { return done_; })) {
      std::fprintf(stderr, "FATAL: %s did not finish within %d s: the simulator hangs instead of reporting a fault\n",
                   what_, seconds_);
      std::fflush(stderr);
      std::_Exit(124);
    }
  }
  const char* what_;
  int seconds_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

// "needle" in "hay", printing both when not.
inline ::testing::AssertionResult Contains(const std::string& hay, const std::string& needle) {
  if (hay.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << needle << "' is not in: " << hay;
}

// Asserts that the device holds the sticky fault `code` and that both
// last_fault() and cudaGetErrorString(code) contain every one of `needles`.
// Returns the fault's text.
inline std::string expect_fault(cudaError_t code, std::initializer_list<std::string> needles) {
  EXPECT_EQ(cudaPeekAtLastError(), code) << cudaGetErrorName(cudaPeekAtLastError());
  const std::string fault = gpsim::last_fault();
  const std::string text = cudaGetErrorString(code);
  EXPECT_FALSE(fault.empty());
  for (const std::string& n : needles) {
    EXPECT_TRUE(Contains(fault, n));
    EXPECT_TRUE(Contains(text, n));
  }
  return fault;
}

// cudaDeviceReset() after a sticky fault, checking that it clears it.
inline void reset_after_fault() {
  ASSERT_EQ(cudaDeviceReset(), cudaSuccess);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(gpsim::last_fault(), "");
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 16), cudaSuccess);  // the device works again
  EXPECT_EQ(cudaFree(p), cudaSuccess);
}

// ---- device memory ---------------------------------------------------------------

template <class T>
T* dev_alloc(size_t n) {
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, n * sizeof(T)), cudaSuccess);
  return static_cast<T*>(p);
}
template <class T>
T* dev_upload(const std::vector<T>& h) {
  T* p = dev_alloc<T>(h.size());
  EXPECT_EQ(cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  return p;
}
// waits for the whole device, then copies n values back
template <class T>
std::vector<T> dev_download(const T* p, size_t n) {
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  std::vector<T> h(n);
  EXPECT_EQ(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
  return h;
}

inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline uint16_t f16_bits(float f) { return gpsim::detail::f32_to_f16_rn(f); }
inline float f16_value(uint16_t h) { return gpsim::detail::f16_to_f32(h); }

}  // namespace simtest
