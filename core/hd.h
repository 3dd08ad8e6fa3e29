// hd.h: GP_HD marks functions shared by host code and CUDA kernels, so the
// CPU tests cover the same arithmetic the GPU runs (block dequantization,
// online-softmax merges, RoPE angles, sampler draws).
#pragma once
#if defined(__CUDACC__)
#define GP_HD __host__ __device__ inline
#else
#define GP_HD inline
#endif
