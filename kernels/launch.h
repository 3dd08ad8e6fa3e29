// launch.h: the few lines where one kernel source meets two compilers. nvcc
// builds kernels/ for GPUs; the host compiler builds the same files against
// the simulated device (sim/, GOLDPATH_SIM), where <<<>>> does not parse and
// shared memory comes from the simulated block. Kernels use:
//   GP_LAUNCH(grid, block, smem, stream, kernel)(args...)   a launch
//   GP_SHARED(T, name, [dims])                             static __shared__ T name[dims] (16-byte aligned)
//   GP_DYNAMIC_SHARED(T, name)                             the launch's dynamic shared memory as T* name
#pragma once
#include <cuda_runtime.h>

#if defined(GOLDPATH_SIM)

#define GP_LAUNCH(grid, block, smem, stream, ...) \
  ::gpsim::launcher<&__VA_ARGS__>(&__VA_ARGS__, (grid), (block), (smem), (stream))
#define GP_SHARED(T, name, dims)  \
  static const char gp_shared_tag_##name = 0; \
  T(&name) dims = *static_cast<T(*) dims>(::gpsim::detail::shared_static(&gp_shared_tag_##name, sizeof(T dims), #name))
#define GP_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::gpsim::detail::shared_dynamic())

#else

#define GP_LAUNCH(grid, block, smem, stream, ...) __VA_ARGS__<<<(grid), (block), (smem), (stream)>>>
#define GP_SHARED(T, name, dims) __shared__ __align__(16) T name dims
#define GP_DYNAMIC_SHARED(T, name)                  \
  extern __shared__ __align__(16) unsigned char gp_dynamic_smem_##name[]; \
  T* name = reinterpret_cast<T*>(gp_dynamic_smem_##name)

#endif
