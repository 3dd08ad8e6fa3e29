// dequantize_test.cpp: GPU dequantization equals the CPU's bit for bit, for
// every stored dtype (skips without a CUDA device, saying why).
#include <gtest/gtest.h>

#include <cstring>

#include "core/dtype.h"
#include "core/ops.h"
#include "kernels/cuda_check.h"
#include "kernels/dequantize.h"
#include "kernels/device.h"

namespace gp {
namespace {

TEST(CudaDequantize, BitIdenticalToCpu) {
  std::string why;
  if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  const OpSpec* emb = find_op("embedding");
  ASSERT_NE(emb, nullptr);
  for (const auto& sh : emb->shapes) {
    if (sh.label != "odd/tail") continue;
    OpArgs a;
    emb->make_inputs(sh, 7, a);  // a random table of the shape's dtype
    const HostTensor& w = a.in("table");
    const int64_t n = w.numel();
    std::vector<float> want(n), got(n);
    dequantize_row(w.dtype, w.raw.data(), want.data(), n);
    uint8_t* d_src = nullptr;
    float* d_out = nullptr;
    GP_CUDA_CHECK(cudaMalloc(&d_src, w.raw.size()));
    GP_CUDA_CHECK(cudaMalloc(&d_out, n * sizeof(float)));
    GP_CUDA_CHECK(cudaMemcpy(d_src, w.raw.data(), w.raw.size(), cudaMemcpyHostToDevice));
    cuda::dequantize(d_out, w.dtype, d_src, n, nullptr);
    GP_CUDA_CHECK(cudaDeviceSynchronize());
    GP_CUDA_CHECK(cudaMemcpy(got.data(), d_out, n * sizeof(float), cudaMemcpyDeviceToHost));
    cudaFree(d_src);
    cudaFree(d_out);
    EXPECT_EQ(std::memcmp(got.data(), want.data(), n * sizeof(float)), 0) << dtype_name(w.dtype);
  }
}

}  // namespace
}  // namespace gp
