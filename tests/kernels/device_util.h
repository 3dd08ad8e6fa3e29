// device_util.h: device memory and f16 helpers shared by the kernel tests.
// Every function here needs a device (the tests call SKIP_WITHOUT_DEVICE first)
// except the host f16 conversions.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/quant.h"
#include "kernels/cuda_check.h"

namespace gptest {

constexpr uint16_t kF16NaN = 0x7e00;

// ---- f16 on the host -------------------------------------------------------
inline std::vector<uint16_t> to_f16(const std::vector<float>& x) {
  std::vector<uint16_t> h(x.size());
  for (size_t i = 0; i < x.size(); i++) h[i] = gp::f32_to_f16(x[i]);
  return h;
}
inline std::vector<float> from_f16(const std::vector<uint16_t>& h) {
  std::vector<float> x(h.size());
  for (size_t i = 0; i < h.size(); i++) x[i] = gp::f16_to_f32(h[i]);
  return x;
}
// x rounded to f16 and back: what a kernel that stores f16 is given
inline std::vector<float> round_f16(const std::vector<float>& x) { return from_f16(to_f16(x)); }

// ---- device memory -----------------------------------------------------------

// n values of T in device memory, freed on scope exit
template <class T>
class Dev {
 public:
  explicit Dev(size_t n) : n_(n) { GP_CUDA_CHECK(cudaMalloc(&p_, (n ? n : 1) * sizeof(T))); }
  explicit Dev(const std::vector<T>& h) : Dev(h.size()) { upload(h); }
  ~Dev() { cudaFree(p_); }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  void upload(const T* h, size_t n) { GP_CUDA_CHECK(cudaMemcpy(p_, h, n * sizeof(T), cudaMemcpyHostToDevice)); }
  void upload(const std::vector<T>& h) { upload(h.data(), h.size()); }
  // waits for the device, then copies all n values back
  std::vector<T> download() const {
    GP_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> h(n_);
    GP_CUDA_CHECK(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }
  T get1() const {  // the first value, after waiting for the device
    T v;
    GP_CUDA_CHECK(cudaDeviceSynchronize());
    GP_CUDA_CHECK(cudaMemcpy(&v, p_, sizeof(T), cudaMemcpyDeviceToHost));
    return v;
  }
  T* get() const { return p_; }
  half* as_half() const { return reinterpret_cast<half*>(p_); }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// untyped device memory (at least 16 bytes, so any pointer is 16-byte aligned)
struct DevBuf {
  void* p = nullptr;
  explicit DevBuf(size_t bytes) { GP_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(bytes, 16))); }
  ~DevBuf() { cudaFree(p); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  half* h() const { return static_cast<half*>(p); }
  float* f() const { return static_cast<float*>(p); }
  int* i() const { return static_cast<int*>(p); }
};

inline void upload_f16(void* dst, const std::vector<uint16_t>& x) {
  GP_CUDA_CHECK(cudaMemcpy(dst, x.data(), x.size() * 2, cudaMemcpyHostToDevice));
}
// waits for the device, then copies n f16 values back
inline std::vector<uint16_t> download_f16(const void* src, size_t n) {
  std::vector<uint16_t> r(n);
  GP_CUDA_CHECK(cudaDeviceSynchronize());
  GP_CUDA_CHECK(cudaMemcpy(r.data(), src, n * 2, cudaMemcpyDeviceToHost));
  return r;
}

}  // namespace gptest
