// device_memory.cpp: the accounting device allocator (device_memory.h).
#include "kernels/device_memory.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>

#include "core/error.h"
#include "core/memory.h"
#include "kernels/cuda_check.h"

namespace gp::cuda {
namespace {

// live bytes of every allocator in the process, so the context overhead of a
// second allocator does not count the first one's buffers
std::atomic<int64_t> g_live_bytes{0};

}  // namespace

const char* mem_category_name(MemCategory c) {
  switch (c) {
    case MemCategory::Weights: return "weights";
    case MemCategory::KvCache: return "kv_cache";
    case MemCategory::Activations: return "activations";
    case MemCategory::Workspace: return "workspace";
    case MemCategory::Other: return "other";
  }
  return "?";
}

std::string MemoryReport::to_string() const {
  std::string s;
  for (int i = 0; i < kMemCategories; i++)
    s += str(mem_category_name((MemCategory)i), ": ", human_bytes(current[i]), " (peak ",
             human_bytes(peak[i]), ")\n");
  s += str("goldpath total: ", human_bytes(total_current), " (peak ", human_bytes(total_peak),
           ")\nCUDA context and other: ", human_bytes(context_overhead), " of ",
           human_bytes(device_total), "\n");
  return s;
}

DeviceAllocator::DeviceAllocator() {
  size_t free_b = 0, total_b = 0;
  GP_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  device_total_ = (int64_t)total_b;
  context_overhead_ = std::max<int64_t>(0, (int64_t)total_b - (int64_t)free_b - g_live_bytes.load());
}

DeviceAllocator::~DeviceAllocator() {
  for (auto& [p, b] : live_) {
    cudaFree(p);  // no throwing from a destructor; a failure here leaks at worst
    g_live_bytes -= (int64_t)b.bytes;
  }
}

void* DeviceAllocator::allocate(size_t bytes, MemCategory c, const std::string& what) {
  GP_CHECK(bytes > 0, "device allocation of 0 bytes for ", what);
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it: the process can go on and try less
    size_t free_b = 0, total_b = 0;
    const cudaError_t ie = cudaMemGetInfo(&free_b, &total_b);
    if (ie != cudaSuccess) cudaGetLastError();
    fail("out of device memory: ", human_bytes((int64_t)std::min<size_t>(bytes, INT64_MAX)), " (",
         bytes, " bytes) requested for ", what, " (", mem_category_name(c), "); ",
         ie == cudaSuccess ? str(human_bytes((int64_t)free_b), " free of ", human_bytes((int64_t)total_b))
                           : std::string("cudaMemGetInfo failed"),
         ", goldpath holds ", human_bytes(total_), " (", human_bytes(current_[(int)MemCategory::Weights]),
         " weights, ", human_bytes(current_[(int)MemCategory::KvCache]), " KV cache)");
  }
  GP_CUDA_CHECK(e);
  live_[p] = Block{bytes, c};
  current_[(int)c] += (int64_t)bytes;
  peak_[(int)c] = std::max(peak_[(int)c], current_[(int)c]);
  total_ += (int64_t)bytes;
  total_peak_ = std::max(total_peak_, total_);
  g_live_bytes += (int64_t)bytes;
  return p;
}

void DeviceAllocator::release(void* p) {
  if (!p) return;
  auto it = live_.find(p);
  GP_CHECK(it != live_.end(), "device free of a pointer this allocator did not give");
  const Block b = it->second;
  live_.erase(it);
  current_[(int)b.cat] -= (int64_t)b.bytes;
  total_ -= (int64_t)b.bytes;
  g_live_bytes -= (int64_t)b.bytes;
  GP_CUDA_CHECK(cudaFree(p));
}

MemoryReport DeviceAllocator::report() const {
  MemoryReport r;
  for (int i = 0; i < kMemCategories; i++) r.current[i] = current_[i], r.peak[i] = peak_[i];
  r.total_current = total_;
  r.total_peak = total_peak_;
  r.context_overhead = context_overhead_;
  r.device_total = device_total_;
  return r;
}

void DeviceBuffer::reset() {
  if (a_ && p_) {
    void* p = p_;
    p_ = nullptr;
    try {
      a_->release(p);
    } catch (const Error&) {
      // a destructor must not throw; the allocator has already forgotten it
    }
  }
  bytes_ = 0;
}

}  // namespace gp::cuda
