// exec.cpp: how a launch runs on the simulated device. Each CUDA thread of a
// block is a fiber (Boost.Context's fcontext, with a guard page below each
// stack); a block's threads run in rounds: every runnable thread runs, in the
// schedule's order, until it reaches __syncthreads, a warp collective or its
// end. Then warp collectives whose lanes have all arrived are resolved, and
// when every thread waits at the same __syncthreads the barrier opens. A
// barrier or collective that can never complete (a thread exited or waits
// elsewhere) is a fault naming the kernel, the block and the threads, not a
// hang. Blocks run one after another on each of the host threads.
#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "cuda_runtime.h"
#include "internal.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GPSIM_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GPSIM_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GPSIM_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define GPSIM_TSAN 1
#endif

#ifdef GPSIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef GPSIM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace ctx = boost::context::detail;

namespace gpsim {
namespace detail {
thread_local ThreadView* t_current = nullptr;
}  // namespace detail

namespace internal {
namespace {

constexpr int kMaxThreads = 1024;
#ifdef GPSIM_ASAN
constexpr size_t kStackBytes = 1024 * 1024;  // ASan's frames are several times larger
#else
constexpr size_t kStackBytes = 256 * 1024;
#endif

struct Block;

struct Thread : detail::ThreadView {
  enum State { kRunnable, kBarrier, kWarp, kExited, kFaulted };
  ctx::fcontext_t fiber = nullptr;  // where the fiber resumes
  ctx::fcontext_t sched = nullptr;  // where it returns to
  int linear = 0;
  State state = kRunnable;
  const char* file = nullptr;  // the barrier it waits at
  int line = 0;
  detail::WarpOp* op = nullptr;  // the collective it waits in
  Block* block = nullptr;
  char* stack_lo = nullptr;
#ifdef GPSIM_ASAN
  void* fake_stack = nullptr;
  const void* sched_bottom = nullptr;
  size_t sched_size = 0;
#endif
#ifdef GPSIM_TSAN
  void* tsan_fiber = nullptr;
#endif
};

// One per host thread that runs blocks: the fibers' stacks and the shared-memory arena.
struct Worker {
  std::vector<Thread> threads{kMaxThreads};
  char* stacks = nullptr;
  size_t slot = 0;  // guard page + stack
  std::vector<unsigned char> arena;
#ifdef GPSIM_TSAN
  void* sched_fiber = nullptr;
#endif
  Worker() {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    slot = kStackBytes + page;
    void* p = mmap(nullptr, slot * kMaxThreads, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
      std::fprintf(stderr, "gpsim: cannot map %zu bytes of fiber stacks\n", slot * kMaxThreads);
      std::abort();
    }
    stacks = static_cast<char*>(p);
    for (int i = 0; i < kMaxThreads; i++) mprotect(stacks + i * slot, page, PROT_NONE);  // overflow faults
    for (int i = 0; i < kMaxThreads; i++) threads[i].stack_lo = stacks + i * slot + page;
#ifdef GPSIM_TSAN
    for (auto& t : threads) t.tsan_fiber = __tsan_create_fiber(0);
#endif
  }
  ~Worker() {
#ifdef GPSIM_TSAN
    for (auto& t : threads) __tsan_destroy_fiber(t.tsan_fiber);
#endif
    munmap(stacks, slot * kMaxThreads);
  }
};

struct Block {
  const Launch* launch = nullptr;
  uint3 bid{};
  int n = 0;  // threads
  Worker* worker = nullptr;
  unsigned char* smem = nullptr;
  size_t dynamic = 0, limit = 0, static_used = 0;
  std::vector<std::pair<const void*, size_t>> statics;  // declaration tag -> offset
  bool failed = false;
  Fault fault;
  int barrier_token = 0;  // address for the sanitizers' happens-before
  int warp_token[32] = {};
};

thread_local Block* t_block = nullptr;
thread_local int t_op_warp = 0;  // the warp whose collective is being resolved

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

std::string where(const Block& b) {
  const Launch& l = *b.launch;
  return fmt("kernel %s, block (%u,%u,%u) of grid (%u,%u,%u), %d threads: ", l.name, b.bid.x, b.bid.y, b.bid.z,
             l.grid.x, l.grid.y, l.grid.z, b.n);
}
std::string who(const Thread& t) {
  return fmt("thread (%u,%u,%u) (warp %d lane %d)", t.tid.x, t.tid.y, t.tid.z, t.linear / 32, t.linear % 32);
}

void fail_block(Block& b, cudaError_t code, const std::string& what) {
  if (b.failed) return;
  b.failed = true;
  b.fault = Fault{code, where(b) + what};
}

// ---- fiber switches, with the sanitizers told ------------------------------------

void fiber_entry(ctx::transfer_t t);

void switch_to_fiber(Thread& th) {  // scheduler -> fiber
  detail::t_current = &th;
#ifdef GPSIM_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, th.stack_lo, kStackBytes);
#endif
#ifdef GPSIM_TSAN
  __tsan_switch_to_fiber(th.tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
  const ctx::transfer_t r = ctx::jump_fcontext(th.fiber, &th);
#ifdef GPSIM_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
  th.fiber = r.fctx;
  detail::t_current = nullptr;
}

void switch_to_scheduler(Thread& th, bool exiting) {  // fiber -> scheduler
#ifdef GPSIM_ASAN
  __sanitizer_start_switch_fiber(exiting ? nullptr : &th.fake_stack, th.sched_bottom, th.sched_size);
#endif
#ifdef GPSIM_TSAN
  __tsan_switch_to_fiber(th.block->worker->sched_fiber, __tsan_switch_to_fiber_no_sync);
#endif
  const ctx::transfer_t r = ctx::jump_fcontext(th.sched, nullptr);
  th.sched = r.fctx;
#ifdef GPSIM_ASAN
  __sanitizer_finish_switch_fiber(th.fake_stack, &th.sched_bottom, &th.sched_size);
#endif
  (void)exiting;
}

void fiber_entry(ctx::transfer_t t) {
  Thread& th = *static_cast<Thread*>(t.data);
  th.sched = t.fctx;
#ifdef GPSIM_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &th.sched_bottom, &th.sched_size);
#endif
  th.block->launch->body->run();
#ifdef GPSIM_TSAN
  __tsan_release(&th.block->barrier_token);  // the block's end orders its writes before the next launch
#endif
  th.state = Thread::kExited;
  switch_to_scheduler(th, true);
  std::abort();  // an exited fiber is never resumed
}

Thread& current_thread() {
  if (!detail::t_current) {
    std::fprintf(stderr, "gpsim: a device function was called outside a kernel\n");
    std::abort();
  }
  return *static_cast<Thread*>(detail::t_current);
}

// ---- the block scheduler -------------------------------------------------------------

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void order_threads(std::vector<int>& ids, const Schedule& s, uint64_t block_linear, uint64_t round) {
  if (s.kind == Schedule::kReverse) std::reverse(ids.begin(), ids.end());
  if (s.kind != Schedule::kShuffle) return;
  uint64_t r = splitmix(s.seed ^ splitmix(block_linear * 0x100000001b3ull + round));
  for (size_t i = ids.size(); i > 1; i--) {
    r = splitmix(r);
    std::swap(ids[i - 1], ids[r % i]);
  }
}

std::string state_of(const Thread& t) {
  switch (t.state) {
    case Thread::kExited: return "has exited";
    case Thread::kBarrier: return fmt("waits at __syncthreads (%s:%d)", t.file, t.line);
    case Thread::kWarp: return fmt("waits at %s (mask 0x%08x, %s:%d)", t.op->name, t.op->mask, t.op->file, t.op->line);
    default: return "is running";
  }
}

// Resolves the warp collectives whose lanes have all arrived; false with the
// block failed when one never can. *progressed: some lane can run again.
bool resolve_warps(Block& b, bool* progressed) {
  std::vector<Thread>& th = b.worker->threads;
  std::string stuck;  // the first collective that cannot complete yet, and why
  for (int base = 0; base < b.n; base += 32) {
    const int lanes = std::min(32, b.n - base);
    for (int i = 0; i < lanes; i++) {
      Thread& t = th[base + i];
      if (t.state != Thread::kWarp) continue;
      const detail::WarpOp& op = *t.op;
      const unsigned m = op.mask;
      if (!((m >> i) & 1u)) {
        fail_block(b, cudaErrorLaunchFailure,
                   fmt("%s calls %s (%s:%d) with mask 0x%08x, which does not include its own lane", who(t).c_str(),
                       op.name, op.file, op.line, m));
        return false;
      }
      detail::WarpOp* posts[32] = {};
      bool ready = true;
      for (int j = 0; j < 32 && ready; j++) {
        if (!((m >> j) & 1u)) continue;
        if (j >= lanes) {
          fail_block(b, cudaErrorLaunchFailure,
                     fmt("%s calls %s (%s:%d) with mask 0x%08x, which names lane %d, and the block has no such "
                         "thread",
                         who(t).c_str(), op.name, op.file, op.line, m, j));
          return false;
        }
        Thread& u = th[base + j];
        const bool same = u.state == Thread::kWarp && u.op->mask == m &&
                          (u.op->resolve == op.resolve || std::strcmp(u.op->name, op.name) == 0);
        if (!same) {
          // another collective of this warp may complete first and let lane j come here
          if (stuck.empty())
            stuck = fmt("%s waits at %s (mask 0x%08x, %s:%d), but lane %d, named in the mask, %s", who(t).c_str(),
                        op.name, m, op.file, op.line, j, state_of(u).c_str());
          ready = false;
        } else {
          posts[j] = u.op;
        }
      }
      if (!ready) continue;
#ifdef GPSIM_TSAN
      __tsan_acquire(&b.warp_token[base / 32]);
#endif
      t_op_warp = base;
      op.resolve(posts, m);
      if (b.failed) return false;
      for (int j = 0; j < 32; j++)
        if ((m >> j) & 1u) th[base + j].state = Thread::kRunnable;
      *progressed = true;
    }
  }
  if (!*progressed && !stuck.empty()) {
    fail_block(b, cudaErrorLaunchFailure, stuck);
    return false;
  }
  return true;
}

bool run_block(Block& b, const Schedule& s) {
  Worker& w = *b.worker;
  const Launch& l = *b.launch;
  std::memset(b.smem, 0xff, b.limit);  // poison: NaN as f16 and f32
  const uint64_t block_linear = b.bid.x + (uint64_t)l.grid.x * (b.bid.y + (uint64_t)l.grid.y * b.bid.z);
  for (int i = 0; i < b.n; i++) {
    Thread& t = w.threads[i];
    t.tid = uint3{(unsigned)(i % l.block.x), (unsigned)((i / l.block.x) % l.block.y),
                  (unsigned)(i / (l.block.x * l.block.y))};
    t.bid = b.bid;
    t.bdim = l.block;
    t.gdim = l.grid;
    t.linear = i;
    t.state = Thread::kRunnable;
    t.op = nullptr;
    t.block = &b;
    // stack tops staggered by 64-byte lines: equally aligned tops would all land
    // in the same cache sets, and each switch would evict the last fiber's frame
    const size_t color = (size_t)(i % 61) * 64 + (size_t)(i % 7) * 4096;
    t.fiber = ctx::make_fcontext(t.stack_lo + kStackBytes - color, kStackBytes - color, fiber_entry);
  }
  t_block = &b;
  std::vector<int> order;
  order.reserve(b.n);
  for (uint64_t round = 0;; round++) {
    order.clear();
    for (int i = 0; i < b.n; i++)
      if (w.threads[i].state == Thread::kRunnable) order.push_back(i);
    order_threads(order, s, block_linear, round);
    for (int i : order) {
      switch_to_fiber(w.threads[i]);
      if (b.failed) break;
    }
    if (b.failed) break;
    bool progressed = false;
    if (!resolve_warps(b, &progressed)) break;
    if (progressed) continue;
    int at_barrier = 0, exited = 0, first_at = -1, first_exited = -1;
    for (int i = 0; i < b.n; i++) {
      const Thread& t = w.threads[i];
      if (t.state == Thread::kBarrier) {
        if (first_at < 0) first_at = i;
        at_barrier++;
      } else if (t.state == Thread::kExited) {
        if (first_exited < 0) first_exited = i;
        exited++;
      }
    }
    if (exited == b.n) break;  // done
    if (first_at < 0) {  // cannot happen: every thread is runnable, at a barrier or exited after a round
      fail_block(b, cudaErrorUnknown, "the simulator's scheduler found no thread to run");
      break;
    }
    const Thread& f = w.threads[first_at];
    if (exited > 0) {
      fail_block(b, cudaErrorLaunchFailure,
                 fmt("__syncthreads at %s:%d is reached by %d of %d threads; %s has exited without reaching it "
                     "(%d threads exited)",
                     f.file, f.line, at_barrier, b.n, who(w.threads[first_exited]).c_str(), exited));
      break;
    }
    for (int i = 0; i < b.n; i++) {
      const Thread& t = w.threads[i];
      if (t.line != f.line || std::strcmp(t.file, f.file) != 0) {
        fail_block(b, cudaErrorLaunchFailure,
                   fmt("divergent __syncthreads: %s waits at %s:%d, %s at %s:%d", who(f).c_str(), f.file, f.line,
                       who(t).c_str(), t.file, t.line));
        break;
      }
    }
    if (b.failed) break;
    for (int i = 0; i < b.n; i++) w.threads[i].state = Thread::kRunnable;
  }
  t_block = nullptr;
  note_static_smem(l.func, b.static_used);
  return !b.failed;
}

Worker& this_worker() {
  thread_local Worker w;
  return w;
}

// A small pool of host threads for the blocks of one launch.
class Pool {
 public:
  void run(int n, const std::function<void()>& fn) {
    if (n <= 1) {
      fn();
      return;
    }
    {
      std::unique_lock<std::mutex> lk(mu_);
      while ((int)threads_.size() < n - 1) threads_.emplace_back([this, id = threads_.size()] { loop(id); });
      job_ = &fn;
      wanted_ = n - 1;
      running_ = 0;
      gen_++;
    }
    cv_.notify_all();
    fn();
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return wanted_ == 0 && running_ == 0; });
    job_ = nullptr;
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void loop(size_t) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || (gen_ != seen && wanted_ > 0); });
      if (stop_) return;
      seen = gen_;
      wanted_--;
      running_++;
      const std::function<void()>* job = job_;
      lk.unlock();
      (*job)();
      lk.lock();
      running_--;
      if (wanted_ == 0 && running_ == 0) done_cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> threads_;
  const std::function<void()>* job_ = nullptr;
  int wanted_ = 0, running_ = 0;
  uint64_t gen_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

namespace {
std::mutex g_atomics_mu;
std::vector<std::pair<uintptr_t, size_t>> g_atomics;
}  // namespace

void note_atomic(const void* p, size_t n) {
  std::lock_guard<std::mutex> lk(g_atomics_mu);
  if (g_atomics.size() < 4096) g_atomics.emplace_back(reinterpret_cast<uintptr_t>(p), n);
}

std::vector<std::pair<uintptr_t, size_t>> take_atomics() {
  std::lock_guard<std::mutex> lk(g_atomics_mu);
  return std::move(g_atomics);
}

bool run_launch(const Launch& l, const Schedule& s, int host_threads, Fault* f, const std::vector<uint64_t>* blocks) {
  const uint64_t nblocks = blocks ? blocks->size() : (uint64_t)l.grid.x * l.grid.y * l.grid.z;
  const int nthreads = (int)(l.block.x * l.block.y * l.block.z);
  const DeviceLimits lim = device_limits();
  // static + dynamic shared memory: 48 KB, or the opt-in maximum for a kernel
  // whose cudaFuncAttributeMaxDynamicSharedMemorySize was raised above 48 KB
  const size_t limit = l.max_dynamic_smem > lim.smem_per_block ? lim.smem_optin : lim.smem_per_block;
  if (l.dynamic_smem > limit) {  // a graph captured for another simulated GPU, say
    f->code = cudaErrorInvalidValue;
    f->text = fmt("kernel %s: %zu bytes of dynamic shared memory exceed the device's %zu per block", l.name,
                  l.dynamic_smem, limit);
    return false;
  }
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  const std::function<void()> work = [&] {
    Worker& w = this_worker();
    if (w.arena.size() < lim.smem_optin + 256) w.arena.assign(lim.smem_optin + 256, 0);
#ifdef GPSIM_TSAN
    w.sched_fiber = __tsan_get_current_fiber();
#endif
    for (;;) {
      const uint64_t k = next.fetch_add(1);
      if (k >= nblocks || failed.load()) return;
      const uint64_t i = blocks ? (*blocks)[k] : k;
      Block b;
      b.launch = &l;
      b.bid = uint3{(unsigned)(i % l.grid.x), (unsigned)((i / l.grid.x) % l.grid.y),
                    (unsigned)(i / ((uint64_t)l.grid.x * l.grid.y))};
      b.n = nthreads;
      b.worker = &w;
      b.smem = w.arena.data() + (128 - reinterpret_cast<uintptr_t>(w.arena.data()) % 128) % 128;
      b.dynamic = l.dynamic_smem;
      b.limit = limit;
      if (!run_block(b, s)) {
        std::lock_guard<std::mutex> lk(mu);
        if (!failed.exchange(true)) *f = b.fault;
        return;
      }
#ifdef GPSIM_TSAN
      __tsan_acquire(&b.barrier_token);
#endif
    }
  };
  const int want = host_threads > 0 ? host_threads : (int)std::max(1u, std::thread::hardware_concurrency());
  pool().run((int)std::min<uint64_t>((uint64_t)want, nblocks), work);
  return !failed.load();
}

}  // namespace internal

// ---- device functions (gpsim/device.h) -----------------------------------------------

namespace detail {

using internal::Block;
using internal::Thread;

void warp_collective(WarpOp& op) {
  Thread& t = internal::current_thread();
  t.op = &op;
  t.state = Thread::kWarp;
#ifdef GPSIM_TSAN
  __tsan_release(&t.block->warp_token[t.linear / 32]);
#endif
  internal::switch_to_scheduler(t, false);
#ifdef GPSIM_TSAN
  __tsan_acquire(&t.block->warp_token[t.linear / 32]);
#endif
  t.op = nullptr;
}

void resolve_fault(int lane, const char* what) {
  Block& b = *internal::t_block;
  const Thread& t = b.worker->threads[internal::t_op_warp + lane];
  const WarpOp* op = t.op;
  internal::fail_block(b, cudaErrorLaunchFailure,
                       internal::fmt("%s at %s (%s:%d): %s", internal::who(t).c_str(), op ? op->name : "?",
                                     op ? op->file : "?", op ? op->line : 0, what));
}

void syncthreads(const char* file, int line) {
  Thread& t = internal::current_thread();
  t.file = file;
  t.line = line;
  t.state = Thread::kBarrier;
#ifdef GPSIM_TSAN
  __tsan_release(&t.block->barrier_token);
#endif
  internal::switch_to_scheduler(t, false);
#ifdef GPSIM_TSAN
  __tsan_acquire(&t.block->barrier_token);
#endif
}

void kernel_fault(const char* what) {
  Thread& t = internal::current_thread();
  internal::fail_block(*t.block, cudaErrorLaunchFailure, internal::who(t) + ": " + what);
  t.state = Thread::kFaulted;
  internal::switch_to_scheduler(t, true);
  std::abort();  // a faulted fiber is never resumed
}

void* shared_static(const void* tag, size_t bytes, const char* name) {
  Block& b = *internal::current_thread().block;
  for (const auto& [t, off] : b.statics)
    if (t == tag) return b.smem + off;
  const size_t off = (b.dynamic + b.static_used + 15) / 16 * 16;
  const internal::DeviceLimits lim = internal::device_limits();
  if (b.static_used + bytes > lim.smem_per_block || off + bytes > b.limit) {
    kernel_fault(internal::fmt("static shared memory '%s' (%zu bytes) does not fit: %zu bytes static and %zu dynamic "
                               "already, limit %zu (static at most %zu)",
                               name, bytes, b.static_used, b.dynamic, b.limit, lim.smem_per_block)
                     .c_str());
  }
  b.static_used = off + bytes - b.dynamic;
  b.statics.emplace_back(tag, off);
  return b.smem + off;
}

void* shared_dynamic() { return internal::current_thread().block->smem; }

void atomic_target(const void* p, size_t n) { internal::note_atomic(p, n); }

uint32_t shared_address(const void* p, const char* file, int line) {
  Block& b = *internal::current_thread().block;
  const unsigned char* c = static_cast<const unsigned char*>(p);
  if (c < b.smem || c >= b.smem + b.limit)
    kernel_fault(internal::fmt("__cvta_generic_to_shared at %s:%d of a pointer outside shared memory", file, line)
                     .c_str());
  return (uint32_t)(c - b.smem);
}

void* shared_pointer(uint32_t addr, size_t bytes, const char* what) {
  Block& b = *internal::t_block;
  if ((size_t)addr + bytes > b.limit) {
    internal::fail_block(b, cudaErrorIllegalAddress,
                         internal::fmt("%s: shared address 0x%x (%zu bytes) is outside the block's %zu bytes of "
                                       "shared memory",
                                       what, addr, bytes, b.limit));
    return nullptr;
  }
  return b.smem + addr;
}

}  // namespace detail
}  // namespace gpsim
