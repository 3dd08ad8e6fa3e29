// vendor.cu: vendor-library versions of ops, the baselines the hand-written
// kernels are measured against (kernels/ops.h, "vendor" section).
// softmax_cudnn: cudnnSoftmaxForward, CUDNN_SOFTMAX_ACCURATE (max-subtracted),
// instance mode over a (T, N, 1, 1) NCHW tensor: one softmax per row of N.
// process_cudnn_handle: one cuDNN handle per device for the whole process.
// Builds without cuDNN keep the symbols and throw when they are called.
#include <cuda_runtime.h>

#include <map>
#include <mutex>

#include "core/error.h"
#include "kernels/cuda_check.h"
#include "kernels/ops.h"

#if defined(GOLDPATH_HAVE_CUDNN)
#include <cudnn.h>

// Throws gp::Error naming the failed cuDNN call, file:line and cuDNN's message.
#define GP_CUDNN_CHECK(stmt)                                                                  \
  do {                                                                                        \
    cudnnStatus_t gp_st_ = (stmt);                                                            \
    if (gp_st_ != CUDNN_STATUS_SUCCESS)                                                       \
      ::gp::fail(#stmt, " failed at ", __FILE__, ":", __LINE__, ": ", cudnnGetErrorString(gp_st_)); \
  } while (0)
#endif

namespace gp::cuda {

#if defined(GOLDPATH_HAVE_CUDNN)

namespace {
// RAII for a cuDNN tensor descriptor (a host object; no device memory)
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc() { GP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};
}  // namespace

cudnnHandle_t process_cudnn_handle() {
  static std::mutex mu;
  static std::map<int, cudnnHandle_t> handles;  // device -> handle, never destroyed
  int device = 0;
  GP_CUDA_CHECK(cudaGetDevice(&device));
  std::lock_guard<std::mutex> lock(mu);
  cudnnHandle_t& h = handles[device];
  if (!h) GP_CUDNN_CHECK(cudnnCreate(&h));
  return h;
}

void softmax_cudnn(float* out, const float* x, int T, int N, cudnnHandle_t cudnn,
                   cudaStream_t stream) {
  GP_CHECK(T >= 0 && N > 0, "cudnn softmax: shape (", T, ", ", N, ") is unsupported");
  if (T == 0) return;
  GP_CHECK(out && x && cudnn, "cudnn softmax: null pointer or handle");
  GP_CUDNN_CHECK(cudnnSetStream(cudnn, stream));
  TensorDesc desc;
  GP_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc.d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, T, N, 1, 1));
  const float alpha = 1.0f, beta = 0.0f;
  GP_CUDNN_CHECK(cudnnSoftmaxForward(cudnn, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &alpha,
                                     desc.d, x, &beta, desc.d, out));
  GP_CUDA_CHECK(cudaGetLastError());
}

#else

cudnnHandle_t process_cudnn_handle() {
  fail("cuDNN: this build has no cuDNN (cudnn.h and libcudnn were not found at configure time)");
}

void softmax_cudnn(float*, const float*, int, int, cudnnHandle_t, cudaStream_t) {
  fail("softmax_cudnn: cuDNN was not found when this build was configured");
}

#endif

}  // namespace gp::cuda
