// gpsim/device.h: what a kernel sees on the simulated device. Each CUDA thread
// is a fiber; threadIdx & co. read the running fiber's coordinates;
// __syncthreads and the warp collectives suspend the fiber until every thread
// they name has arrived (sim/src/exec.cpp checks that they all do, and says
// which did not). Qualifiers (__global__, __device__, ...) expand to nothing.
// Shared memory is declared through kernels/launch.h (GP_SHARED,
// GP_DYNAMIC_SHARED), which here takes it from the block's arena.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "gpsim/types.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __align__(n) alignas(n)

namespace gpsim {

constexpr int warpSize = 32;
using std::isfinite;  // CUDA declares these in the global namespace
using std::isinf;
using std::isnan;

namespace detail {

// the running CUDA thread's coordinates (first member of its state in exec.cpp)
struct ThreadView {
  uint3 tid, bid;
  dim3 bdim, gdim;
};
extern thread_local ThreadView* t_current;
inline const ThreadView& cur() { return *t_current; }

// A warp-collective operation as one lane posts it. When every lane named in
// `mask` has posted the same operation, `resolve` runs once with the posts of
// those lanes (lanes[i] is null for a lane not in the mask) and writes each
// lane's result through its `out`.
struct WarpOp;
using WarpResolve = void (*)(WarpOp* const* lanes, unsigned mask);
struct WarpOp {
  const char* name;
  const char* file;
  int line;
  unsigned mask;
  WarpResolve resolve;
  const void* in;
  void* out;
  int a, b;
};

void warp_collective(WarpOp& op);           // posts op; returns when it is resolved
void resolve_fault(int lane, const char* what);  // from a resolve function: fails the block
void syncthreads(const char* file, int line);
[[noreturn]] void kernel_fault(const char* what);  // from kernel code: fails the block

void* shared_static(const void* tag, size_t bytes, const char* name);
void atomic_target(const void* p, size_t n);  // the schedule comparison leaves these bytes out
void* shared_dynamic();
uint32_t shared_address(const void* p, const char* file, int line);
// shared-memory pointer for a 32-bit shared address, checked to lie in the block's arena
void* shared_pointer(uint32_t addr, size_t bytes, const char* what);

enum ShflMode { kShflIdx, kShflUp, kShflDown, kShflXor };

template <class T, int kMode>
void shfl_resolve(WarpOp* const* lanes, unsigned mask) {
  for (int i = 0; i < 32; i++) {
    if (!((mask >> i) & 1u)) continue;
    const int w = lanes[i]->b, arg = lanes[i]->a, base = i & ~(w - 1);
    int src = i;
    switch (kMode) {
      case kShflIdx: src = base + (arg & (w - 1)); break;
      case kShflUp: src = i - base - arg >= 0 ? i - arg : i; break;
      case kShflDown: src = i - base + arg < w ? i + arg : i; break;
      default: src = (i ^ arg) < base + w ? (i ^ arg) : i; break;  // a later group: own value
    }
    if (!((mask >> src) & 1u)) {
      resolve_fault(i, "reads a lane that is not in the shuffle's mask");
      return;
    }
    std::memcpy(lanes[i]->out, lanes[src]->in, sizeof(T));
  }
}

template <int kKind>  // 0 ballot, 1 any, 2 all
void vote_resolve(WarpOp* const* lanes, unsigned mask) {
  unsigned ballot = 0;
  for (int i = 0; i < 32; i++)
    if (((mask >> i) & 1u) && *static_cast<const int*>(lanes[i]->in)) ballot |= 1u << i;
  const unsigned r = kKind == 0 ? ballot : kKind == 1 ? (ballot != 0) : (ballot == mask);
  for (int i = 0; i < 32; i++)
    if ((mask >> i) & 1u) *static_cast<unsigned*>(lanes[i]->out) = r;
}

inline void no_resolve(WarpOp* const*, unsigned) {}

template <class T, int kMode>
T shfl(const char* name, unsigned mask, T v, int arg, int width, const char* file, int line) {
  static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8, "shuffle of an unsupported type");
  if (width <= 0 || width > 32 || (width & (width - 1)))
    kernel_fault("shuffle width is not a power of two in [1, 32]");
  T r{};
  WarpOp op{name, file, line, mask, &shfl_resolve<T, kMode>, &v, &r, arg, width};
  warp_collective(op);
  return r;
}

template <int kKind>
unsigned vote(const char* name, unsigned mask, int pred, const char* file, int line) {
  unsigned r = 0;
  WarpOp op{name, file, line, mask, &vote_resolve<kKind>, &pred, &r, 0, 0};
  warp_collective(op);
  return r;
}

}  // namespace detail

// ---- math and bit casts (host arithmetic; see sim/README.md on ulps) ----------
// glibc declares __expf and __logf itself, so these two are macros
inline float fast_expf(float x) { return std::exp(x); }
inline float fast_logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <class T>
inline T __ldg(const T* p) { return *p; }

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max(int64_t a, int64_t b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }

// ---- atomics (blocks may run on several host threads) -------------------------
template <class T>
inline T atomicCAS(T* p, T compare, T val) {
  detail::atomic_target(p, sizeof(T));
  __atomic_compare_exchange_n(p, &compare, val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return compare;  // the old value either way
}
template <class T>
inline T atomicExch(T* p, T val) {
  detail::atomic_target(p, sizeof(T));
  return __atomic_exchange_n(p, val, __ATOMIC_SEQ_CST);
}
template <class T, class = std::enable_if_t<std::is_integral<T>::value>>
inline T atomicAdd(T* p, T v) {
  detail::atomic_target(p, sizeof(T));
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline float atomicAdd(float* p, float v) {
  detail::atomic_target(p, sizeof(float));
  unsigned* u = reinterpret_cast<unsigned*>(p);
  unsigned old = __atomic_load_n(u, __ATOMIC_SEQ_CST), want;
  do {
    want = __float_as_uint(__uint_as_float(old) + v);
  } while (!__atomic_compare_exchange_n(u, &old, want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return __uint_as_float(old);
}
template <class T>
inline T atomicMin(T* p, T v) {
  detail::atomic_target(p, sizeof(T));
  T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (v < old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}
template <class T>
inline T atomicMax(T* p, T v) {
  detail::atomic_target(p, sizeof(T));
  T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (v > old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}

}  // namespace gpsim

#define __expf(x) ::gpsim::fast_expf(x)
#define __logf(x) ::gpsim::fast_logf(x)

// ---- thread coordinates ----------------------------------------------------------
#define threadIdx (::gpsim::detail::cur().tid)
#define blockIdx (::gpsim::detail::cur().bid)
#define blockDim (::gpsim::detail::cur().bdim)
#define gridDim (::gpsim::detail::cur().gdim)

// ---- barriers and warp collectives (the call site names itself in errors) ------
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::gpsim::detail::syncthreads(file, line);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(),
                       int line = __builtin_LINE()) {
  ::gpsim::detail::WarpOp op{"__syncwarp", file, line, mask, &::gpsim::detail::no_resolve, nullptr, nullptr, 0, 0};
  ::gpsim::detail::warp_collective(op);
}
template <class T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32, const char* file = __builtin_FILE(),
                     int line = __builtin_LINE()) {
  return ::gpsim::detail::shfl<T, ::gpsim::detail::kShflIdx>("__shfl_sync", mask, v, src, width, file, line);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                        int line = __builtin_LINE()) {
  return ::gpsim::detail::shfl<T, ::gpsim::detail::kShflUp>("__shfl_up_sync", mask, v, (int)delta, width, file, line);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                          int line = __builtin_LINE()) {
  return ::gpsim::detail::shfl<T, ::gpsim::detail::kShflDown>("__shfl_down_sync", mask, v, (int)delta, width, file,
                                                              line);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32, const char* file = __builtin_FILE(),
                         int line = __builtin_LINE()) {
  return ::gpsim::detail::shfl<T, ::gpsim::detail::kShflXor>("__shfl_xor_sync", mask, v, lane_mask, width, file,
                                                             line);
}
inline unsigned __ballot_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::gpsim::detail::vote<0>("__ballot_sync", mask, pred, file, line);
}
inline int __any_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return (int)::gpsim::detail::vote<1>("__any_sync", mask, pred, file, line);
}
inline int __all_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return (int)::gpsim::detail::vote<2>("__all_sync", mask, pred, file, line);
}
inline size_t __cvta_generic_to_shared(const void* p, const char* file = __builtin_FILE(),
                                       int line = __builtin_LINE()) {
  return ::gpsim::detail::shared_address(p, file, line);
}
