// gpsim/launch.h: kernel launches on the simulated device. kernels/launch.h's
// GP_LAUNCH(grid, block, smem, stream, kernel)(args...) becomes
// gpsim::launcher<&kernel>(...)(args...): the arguments are converted to the
// kernel's parameter types and copied once, as a CUDA launch does, and each
// simulated thread runs the kernel on its own copy of them.
#pragma once
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "gpsim/types.h"

namespace gpsim {

struct KernelBody {
  virtual ~KernelBody() = default;
  virtual void run() const = 0;  // one thread's execution of the kernel
};

template <class... P>
struct KernelCall final : KernelBody {
  void (*fn)(P...);
  std::tuple<P...> args;
  template <class... A>
  KernelCall(void (*f)(P...), A&&... a) : fn(f), args(std::forward<A>(a)...) {}
  void run() const override {
    std::tuple<P...> local = args;  // parameters are per thread, as on the device
    std::apply(fn, local);
  }
};

// Enqueues (or, while the stream is captured, records) one launch; launch
// errors (configuration, shared memory) are returned by cudaGetLastError.
void launch_kernel(const char* name, const void* func, dim3 grid, dim3 block, size_t dynamic_smem,
                   cudaStream_t stream, std::shared_ptr<const KernelBody> body);

namespace detail {
// "gp::cuda_sim::{anonymous}::rmsnorm_v1<float>" -> "rmsnorm_v1<float>"
std::string kernel_name_from_signature(const char* pretty);
}  // namespace detail

template <auto F>
const char* kernel_name() {
  static const std::string name = detail::kernel_name_from_signature(__PRETTY_FUNCTION__);
  return name.c_str();
}

template <class... P>
struct Launcher {
  const char* name;
  void (*fn)(P...);
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  template <class... A>
  void operator()(A&&... a) const {
    static_assert(sizeof...(A) == sizeof...(P), "kernel launched with the wrong number of arguments");
    launch_kernel(name, reinterpret_cast<const void*>(fn), grid, block, smem, stream,
                  std::make_shared<const KernelCall<P...>>(fn, std::forward<A>(a)...));
  }
};

template <auto F, class... P>
Launcher<P...> launcher(void (*fn)(P...), dim3 grid, dim3 block, size_t smem = 0, cudaStream_t stream = nullptr) {
  return Launcher<P...>{kernel_name<F>(), fn, grid, block, smem, stream};
}

}  // namespace gpsim
