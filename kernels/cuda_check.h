// cuda_check.h: the one CUDA error check. Throws gp::Error naming the failed
// statement, file:line, the error's name and its description; library code
// never exits. Check after every launch (GP_CUDA_CHECK(cudaGetLastError()))
// and again after synchronizing, since launch errors are asynchronous.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/error.h"

#define GP_CUDA_CHECK(stmt)                                                              \
  do {                                                                                   \
    cudaError_t gp_err_ = (stmt);                                                        \
    if (gp_err_ != cudaSuccess)                                                          \
      ::gp::fail(#stmt, " failed at ", __FILE__, ":", __LINE__, ": ",                    \
                 cudaGetErrorName(gp_err_), " (", cudaGetErrorString(gp_err_), ")");     \
  } while (0)

// The same for cuBLAS calls (vendor baselines, ceilings).
#define GP_CUBLAS_CHECK(stmt)                                                            \
  do {                                                                                   \
    cublasStatus_t gp_st_ = (stmt);                                                      \
    if (gp_st_ != CUBLAS_STATUS_SUCCESS)                                                 \
      ::gp::fail(#stmt, " failed at ", __FILE__, ":", __LINE__, ": ",                    \
                 cublasGetStatusName(gp_st_), " (", cublasGetStatusString(gp_st_), ")"); \
  } while (0)
