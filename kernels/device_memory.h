// device_memory.h: goldpath's one device allocator. Every cudaMalloc of the
// CUDA backends goes through a DeviceAllocator, which keeps current and peak
// bytes per category, so `memory_bytes()` and the VRAM report say where the
// memory went. A request that does not fit throws gp::Error naming the
// request, its purpose and what cudaMemGetInfo says is free; the process can
// carry on (e.g. try a smaller request).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace gp::cuda {

enum class MemCategory { Weights, KvCache, Activations, Workspace, Other };
constexpr int kMemCategories = 5;
const char* mem_category_name(MemCategory c);  // "weights", "kv_cache", ...

struct MemoryReport {
  int64_t current[kMemCategories] = {};  // live bytes per category
  int64_t peak[kMemCategories] = {};     // peak live bytes per category
  int64_t total_current = 0;
  int64_t total_peak = 0;                // peak of the sum (not the sum of peaks)
  // device memory in use at the allocator's creation that goldpath did not
  // allocate: the CUDA context, library handles, other processes
  int64_t context_overhead = 0;
  int64_t device_total = 0;
  std::string to_string() const;  // one line per category, then totals
};

class DeviceAllocator {
 public:
  // Reads cudaMemGetInfo on the current device (throws gp::Error without one).
  DeviceAllocator();
  ~DeviceAllocator();  // frees what is still live
  DeviceAllocator(const DeviceAllocator&) = delete;
  DeviceAllocator& operator=(const DeviceAllocator&) = delete;

  // bytes > 0; `what` names the purpose ("layer 3 wq", "KV cache for 512 tokens").
  void* allocate(size_t bytes, MemCategory c, const std::string& what);
  void release(void* p);  // p from allocate (null is a no-op)

  int64_t current(MemCategory c) const { return current_[(int)c]; }
  int64_t peak(MemCategory c) const { return peak_[(int)c]; }
  int64_t total_current() const { return total_; }
  int64_t total_peak() const { return total_peak_; }
  MemoryReport report() const;

 private:
  struct Block {
    size_t bytes;
    MemCategory cat;
  };
  std::map<void*, Block> live_;
  int64_t current_[kMemCategories] = {};
  int64_t peak_[kMemCategories] = {};
  int64_t total_ = 0, total_peak_ = 0;
  int64_t context_overhead_ = 0, device_total_ = 0;
};

// Device memory owned by RAII, from a DeviceAllocator that outlives it.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceAllocator& a, size_t bytes, MemCategory c, const std::string& what)
      : a_(&a), p_(a.allocate(bytes, c, what)), bytes_(bytes) {}
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : a_(o.a_), p_(o.p_), bytes_(o.bytes_) {
    o.a_ = nullptr, o.p_ = nullptr, o.bytes_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      a_ = o.a_, p_ = o.p_, bytes_ = o.bytes_;
      o.a_ = nullptr, o.p_ = nullptr, o.bytes_ = 0;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void reset();  // frees now
  void* get() const { return p_; }
  template <class T>
  T* as() const { return static_cast<T*>(p_); }
  size_t bytes() const { return bytes_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  DeviceAllocator* a_ = nullptr;
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace gp::cuda
