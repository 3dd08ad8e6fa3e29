// runtime.cpp: the host side of the simulated device: device memory (exact
// sizes, poisoned with 0xff bytes, guard bytes checked after every kernel, or
// ASan's own redzones under ASan), streams (in order; deferred mode runs
// queued work only when something waits for it), events (host wall time),
// graph capture and replay with CUDA's capture rules, device properties of a
// T4 or an H200, sticky kernel faults and CUDA's error names. One mutex
// serializes the API, as one CUDA context would.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>

#include "cuda_runtime.h"
#include "gpsim/sim.h"
#include "internal.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GPSIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GPSIM_ASAN 1
#endif

namespace gpsim {

struct Work {
  enum Kind { kKernel, kCopy, kSet, kEvent } kind = kKernel;
  uint64_t seq = 0;
  std::shared_ptr<const internal::Launch> launch;
  void* dst = nullptr;
  const void* src = nullptr;  // read when the work runs (captured copies: as a graph does)
  size_t n = 0;
  std::shared_ptr<std::vector<unsigned char>> staged;  // pageable host data copied at enqueue
  int value = 0;
  Event* event = nullptr;
};

struct Graph {
  std::vector<Work> nodes;
};
struct GraphExec {
  std::vector<Work> nodes;
};

struct Stream {
  unsigned flags = 0;
  bool legacy = false;
  std::deque<Work>* queue = nullptr;  // blocking streams share the legacy stream's queue
  std::deque<Work> own;
  bool capturing = false, capture_invalid = false;
  Graph* capture = nullptr;
};

struct Event {
  unsigned flags = 0;
  bool recorded = false, done = false;
  Stream* stream = nullptr;
  uint64_t seq = 0;  // the record's work item
  std::chrono::steady_clock::time_point t;
};

namespace {

using Clock = std::chrono::steady_clock;

struct Alloc {
  unsigned char* raw;
  size_t n;
};

#ifndef GPSIM_ASAN
constexpr size_t kGuard = 256;  // guard bytes before and after each allocation
constexpr unsigned char kGuardByte = 0xa5;
#endif

// what a CUDA context takes of device memory before the program allocates
// anything (a few hundred MiB on a real GPU; modelled so that memory reports
// show a context share as they do on a GPU)
constexpr size_t kContextBytes = 256ull << 20;

struct State {
  std::recursive_mutex mu;
  bool configured = false;
  Config cfg;
  std::map<uintptr_t, Alloc> allocs;  // by device address
  size_t allocated = 0;
  std::deque<Work> legacy_queue;
  Stream legacy;
  std::set<Stream*> streams;
  std::set<Event*> events;
  uint64_t seq = 0;
  cudaError_t last = cudaSuccess;
  cudaError_t sticky = cudaSuccess;
  std::string fault;
  std::string fault_string;  // cudaGetErrorString's text for the sticky error
  std::map<const void*, int> max_dynamic;  // cudaFuncAttributeMaxDynamicSharedMemorySize
  std::map<const void*, size_t> static_smem;
  int64_t launches = 0;
  int64_t partial_launches = 0;  // of those, partial grids (Config::partial_blocks)
  int capturing = 0;  // streams being captured
};

State& st() {
  static State* s = [] {
    auto* x = new State;  // never destroyed: fibers and static destructors may still call in
    x->legacy.legacy = true;
    x->legacy.queue = &x->legacy_queue;
    return x;
  }();
  return *s;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

Config config_from_env() {
  Config c;
  if (const char* g = env("GOLDPATH_SIM_GPU")) {
    const std::string s = g;
    if (s == "t4") c.gpu = Gpu::kT4;
    else if (s == "h200") c.gpu = Gpu::kH200;
    else {
      std::fprintf(stderr, "gpsim: GOLDPATH_SIM_GPU=%s is not one of t4, h200\n", g);
      std::exit(2);
    }
  }
  if (const char* s = env("GOLDPATH_SIM_SCHEDULES")) {
    c.schedules.clear();
    std::string all = s;
    size_t b = 0;
    try {
      while (b <= all.size()) {
        size_t e = all.find(',', b);
        if (e == std::string::npos) e = all.size();
        c.schedules.push_back(parse_schedule(all.substr(b, e - b)));
        b = e + 1;
      }
    } catch (const std::invalid_argument& x) {
      std::fprintf(stderr, "gpsim: GOLDPATH_SIM_SCHEDULES=%s: %s\n", s, x.what());
      std::exit(2);
    }
  }
  if (const char* m = env("GOLDPATH_SIM_STREAMS")) {
    const std::string s = m;
    if (s == "deferred") c.streams = StreamMode::kDeferred;
    else if (s == "immediate") c.streams = StreamMode::kImmediate;
    else {
      std::fprintf(stderr, "gpsim: GOLDPATH_SIM_STREAMS=%s is not one of deferred, immediate\n", m);
      std::exit(2);
    }
  }
  if (const char* t = env("GOLDPATH_SIM_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(t, &end, 10);
    if (*end || v < 0 || v > 1024) {
      std::fprintf(stderr, "gpsim: GOLDPATH_SIM_THREADS=%s is not a number of threads in [0, 1024]\n", t);
      std::exit(2);
    }
    c.host_threads = (int)v;
  }
  if (const char* pg = env("GOLDPATH_SIM_PARTIAL")) {  // COUNT:KERNEL-NAME-PART
    const std::string s = pg;
    const size_t colon = s.find(':');
    char* end = nullptr;
    const long v = colon == std::string::npos ? 0 : std::strtol(s.substr(0, colon).c_str(), &end, 10);
    if (colon == std::string::npos || colon == 0 || *end || v < 2 || v > 1000000 || colon + 1 == s.size()) {
      std::fprintf(stderr, "gpsim: GOLDPATH_SIM_PARTIAL=%s is not COUNT:KERNEL (a block count >= 2, a kernel name part)\n", pg);
      std::exit(2);
    }
    c.partial_blocks = (int)v;
    c.partial_kernel = s.substr(colon + 1);
  }
  return c;
}

State& S() {
  State& s = st();
  if (!s.configured) {
    s.configured = true;
    s.cfg = config_from_env();
  }
  return s;
}

cudaDeviceProp props_of(Gpu g) {
  cudaDeviceProp p{};
  if (g == Gpu::kT4) {
    std::snprintf(p.name, sizeof p.name, "%s", "Tesla T4 (goldpath simulated device)");
    p.totalGlobalMem = 15843721216ull;
    p.major = 7;
    p.minor = 5;
    p.multiProcessorCount = 40;
    p.clockRate = 1590000;
    p.memoryClockRate = 5001000;
    p.memoryBusWidth = 256;
    p.l2CacheSize = 4 * 1024 * 1024;
    p.maxThreadsPerMultiProcessor = 1024;
    p.sharedMemPerMultiprocessor = 64 * 1024;
    p.sharedMemPerBlockOptin = 64 * 1024;
  } else {
    std::snprintf(p.name, sizeof p.name, "%s", "NVIDIA H200 (goldpath simulated device)");
    p.totalGlobalMem = 150754820096ull;
    p.major = 9;
    p.minor = 0;
    p.multiProcessorCount = 132;
    p.clockRate = 1980000;
    p.memoryClockRate = 3201000;
    p.memoryBusWidth = 6144;
    p.l2CacheSize = 60 * 1024 * 1024;
    p.maxThreadsPerMultiProcessor = 2048;
    p.sharedMemPerMultiprocessor = 228 * 1024;
    p.sharedMemPerBlockOptin = 227 * 1024;
  }
  p.sharedMemPerBlock = 48 * 1024;
  p.regsPerBlock = 65536;
  p.warpSize = 32;
  p.maxThreadsPerBlock = 1024;
  p.maxThreadsDim[0] = 1024;
  p.maxThreadsDim[1] = 1024;
  p.maxThreadsDim[2] = 64;
  p.maxGridSize[0] = 0x7fffffff;
  p.maxGridSize[1] = 65535;
  p.maxGridSize[2] = 65535;
  return p;
}

cudaError_t set_last(cudaError_t e) {
  if (e != cudaSuccess) S().last = e;
  return e;
}

void set_sticky(cudaError_t code, const std::string& text) {
  State& s = S();
  if (s.sticky != cudaSuccess) return;
  s.sticky = code;
  s.fault = text;
  s.legacy_queue.clear();  // a faulted context runs nothing more
  for (Stream* q : s.streams) q->own.clear();
}

// The allocation holding [p, p + n), or null.
const Alloc* find_alloc(const void* p, size_t n, uintptr_t* base = nullptr) {
  State& s = S();
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = s.allocs.upper_bound(a);
  if (it == s.allocs.begin()) return nullptr;
  --it;
  if (a < it->first || a + n > it->first + it->second.n || (n == 0 && a > it->first + it->second.n)) return nullptr;
  if (base) *base = it->first;
  return &it->second;
}

Stream* stream_of(cudaStream_t s) { return s ? s : &S().legacy; }
bool valid_stream(cudaStream_t s) { return !s || S().streams.count(s); }

// ---- execution -----------------------------------------------------------------------

// Launches of more blocks than this run their other schedules on a sample of
// this many blocks: a race is in the code every block runs, and a sample
// finds it at a fraction of the cost of the whole grid again.
constexpr uint64_t kSampledBlocks = 6;

std::vector<uint64_t> sample_blocks(uint64_t n, uint64_t seed) { return sample_of_blocks(n, kSampledBlocks, seed); }

bool partial_launch(const Config& c, const internal::Launch& l, uint64_t nblocks) {
  return c.partial_blocks > 0 && !c.partial_kernel.empty() && nblocks > (uint64_t)c.partial_blocks &&
         std::strstr(l.name, c.partial_kernel.c_str()) != nullptr;
}

// Runs one launch under every configured schedule, from the same device
// memory, and requires the same bytes after each. The first schedule runs the
// whole grid and its result is kept. Another schedule runs the whole grid
// again for small grids, else a sample of blocks (kSampledBlocks); then every
// byte that run changed must equal the first run's, except bytes updated
// through atomics, whose final value depends on which blocks ran.
void run_kernel_checked(const internal::Launch& l) {
  State& s = S();
  const Config& c = s.cfg;
  const bool compare = c.schedules.size() > 1;
  const uint64_t nblocks = (uint64_t)l.grid.x * l.grid.y * l.grid.z;
  std::vector<std::vector<unsigned char>> inputs, first;
  if (compare) internal::for_each_allocation([&](unsigned char* p, size_t n) { inputs.emplace_back(p, p + n); });
  internal::take_atomics();
  internal::Fault f;
  const bool partial = partial_launch(c, l, nblocks);
  const std::vector<uint64_t> part =
      partial ? sample_of_blocks(nblocks, (uint64_t)c.partial_blocks, 0) : std::vector<uint64_t>{};
  if (partial) s.partial_launches++;
  if (!internal::run_launch(l, c.schedules[0], c.host_threads, &f, partial ? &part : nullptr)) {
    set_sticky(f.code, f.text + (compare ? " (schedule " + c.schedules[0].name() + ")" : ""));
    return;
  }
  if (compare) {
    internal::for_each_allocation([&](unsigned char* p, size_t n) { first.emplace_back(p, p + n); });
    const auto atomics = internal::take_atomics();
    auto atomic_byte = [&](const unsigned char* p) {
      const uintptr_t a = reinterpret_cast<uintptr_t>(p);
      for (const auto& [b, n] : atomics)
        if (a >= b && a < b + n) return true;
      return false;
    };
    for (size_t k = 1; k < c.schedules.size(); k++) {
      size_t i = 0;
      internal::for_each_allocation([&](unsigned char* p, size_t n) { std::memcpy(p, inputs[i++].data(), n); });
      // a partial grid runs the same blocks again; else a sample of a large grid
      const bool sampled = !partial && nblocks > kSampledBlocks;
      const std::vector<uint64_t> blocks = partial ? part : sampled ? sample_blocks(nblocks, k) : std::vector<uint64_t>{};
      if (!internal::run_launch(l, c.schedules[k], c.host_threads, &f, partial || sampled ? &blocks : nullptr)) {
        set_sticky(f.code, f.text + " (schedule " + c.schedules[k].name() + ")");
        return;
      }
      internal::take_atomics();
      i = 0;
      std::string diff;
      internal::for_each_allocation([&](unsigned char* p, size_t n) {
        const std::vector<unsigned char>& a = first[i];
        const std::vector<unsigned char>& in = inputs[i++];
        if (!diff.empty() || std::memcmp(a.data(), p, n) == 0) return;
        size_t off = n, count = 0;
        for (size_t j = 0; j < n; j++) {
          if (a[j] == p[j] || (sampled && p[j] == in[j]) || atomic_byte(p + j)) continue;  // sampled: not written
          if (off == n) off = j;
          count++;
        }
        if (count == 0) return;
        char buf[640];
        std::snprintf(buf, sizeof buf,
                      "an allocation of %zu bytes differs at byte %zu (%zu bytes differ) between schedule %s and "
                      "schedule %s%s: the block's threads race (a missing __syncthreads or __syncwarp?)",
                      n, off, count, c.schedules[0].name().c_str(), c.schedules[k].name().c_str(),
                      sampled ? " (run on a sample of the grid's blocks)" : "");
        diff = buf;
      });
      if (!diff.empty()) {
        set_sticky(cudaErrorLaunchFailure, std::string("kernel ") + l.name + ": " + diff);
        return;
      }
    }
    // the first schedule's result is the launch's
    size_t i = 0;
    internal::for_each_allocation([&](unsigned char* p, size_t n) { std::memcpy(p, first[i++].data(), n); });
  }
  const std::string g = internal::check_guards();
  if (!g.empty()) set_sticky(cudaErrorIllegalAddress, std::string("kernel ") + l.name + " " + g);
  s.launches++;
}

void execute(const Work& w) {
  State& s = S();
  if (s.sticky != cudaSuccess) return;
  switch (w.kind) {
    case Work::kKernel: run_kernel_checked(*w.launch); break;
    case Work::kCopy:
      std::memmove(w.dst, w.staged ? w.staged->data() : w.src, w.n);
      break;
    case Work::kSet: std::memset(w.dst, w.value, w.n); break;
    case Work::kEvent:
      if (w.event->seq == w.seq) {
        w.event->done = true;
        w.event->t = Clock::now();
      }
      break;
  }
}

// Runs the queue's work in order until `stop` (exclusive of nothing: the
// item for which stop is true runs too), or all of it.
void flush(std::deque<Work>& q, uint64_t until_seq = UINT64_MAX) {
  while (!q.empty() && q.front().seq <= until_seq) {
    Work w = std::move(q.front());
    q.pop_front();
    execute(w);
  }
}

void flush_all() {  // every queue, in the order the work was enqueued
  State& s = S();
  for (;;) {
    std::deque<Work>* best = nullptr;
    if (!s.legacy_queue.empty()) best = &s.legacy_queue;
    for (Stream* q : s.streams)
      if (!q->own.empty() && (!best || q->own.front().seq < best->front().seq)) best = &q->own;
    if (!best) return;
    Work w = std::move(best->front());
    best->pop_front();
    execute(w);
  }
}

void enqueue(Stream* st_, Work w) {
  State& s = S();
  w.seq = ++s.seq;
  if (w.kind == Work::kEvent) w.event->seq = w.seq;
  if (st_->capturing) {
    st_->capture->nodes.push_back(std::move(w));
    return;
  }
  st_->queue->push_back(std::move(w));
  if (s.cfg.streams == StreamMode::kImmediate) flush(*st_->queue);
}

// A call that CUDA refuses while a stream is captured (in global or thread-local
// mode): it invalidates every capture under way.
bool refused_in_capture() {
  State& s = S();
  if (s.capturing == 0) return false;
  for (Stream* q : s.streams)
    if (q->capturing) q->capture_invalid = true;
  return true;
}

#define GPSIM_API std::lock_guard<std::recursive_mutex> lock_(S().mu)
#define GPSIM_STICKY \
  if (S().sticky != cudaSuccess) return S().sticky

}  // namespace

// ---- gpsim/sim.h ----------------------------------------------------------------------

std::string Schedule::name() const {
  switch (kind) {
    case kForward: return "forward";
    case kReverse: return "reverse";
    default: return "shuffle:" + std::to_string(seed);
  }
}

Schedule parse_schedule(const std::string& s) {
  if (s == "forward") return Schedule{Schedule::kForward, 0};
  if (s == "reverse") return Schedule{Schedule::kReverse, 0};
  if (s.rfind("shuffle:", 0) == 0 && s.size() > 8 && s.find_first_not_of("0123456789", 8) == std::string::npos)
    return Schedule{Schedule::kShuffle, std::stoull(s.substr(8))};
  throw std::invalid_argument("schedule '" + s + "' is not forward, reverse or shuffle:SEED");
}

Config config() {
  GPSIM_API;
  return S().cfg;
}

void set_config(const Config& c) {
  GPSIM_API;
  if (c.schedules.empty()) throw std::invalid_argument("gpsim::set_config: no schedule");
  if (c.partial_blocks < 0) throw std::invalid_argument("gpsim::set_config: partial_blocks is negative");
  if (S().capturing) throw std::logic_error("gpsim::set_config while a stream is being captured");
  flush_all();
  S().cfg = c;
}

std::string last_fault() {
  GPSIM_API;
  return S().fault;
}

int64_t launches_executed() {
  GPSIM_API;
  return S().launches;
}

int64_t partial_launches_executed() {
  GPSIM_API;
  return S().partial_launches;
}

std::vector<uint64_t> sample_of_blocks(uint64_t n, uint64_t count, uint64_t seed) {
  std::vector<uint64_t> b;
  if (n <= count) {
    for (uint64_t i = 0; i < n; i++) b.push_back(i);
    return b;
  }
  b = {0, n - 1};
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + n;
  while (b.size() < count) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const uint64_t i = x % n;
    if (std::find(b.begin(), b.end(), i) == b.end()) b.push_back(i);
  }
  std::sort(b.begin(), b.end());
  return b;
}

std::string describe() {
  GPSIM_API;
  const Config& c = S().cfg;
  const cudaDeviceProp p = props_of(c.gpu);
  std::string sch;
  for (const auto& x : c.schedules) sch += (sch.empty() ? "" : ",") + x.name();
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s: sm_%d%d, %d SMs, %.1f GiB; schedules %s; streams %s; %s host threads", p.name,
                p.major, p.minor, p.multiProcessorCount, (double)p.totalGlobalMem / (1ull << 30), sch.c_str(),
                c.streams == StreamMode::kDeferred ? "deferred" : "immediate",
                c.host_threads ? std::to_string(c.host_threads).c_str() : "all");
  std::string out = buf;
  if (c.partial_blocks > 0 && !c.partial_kernel.empty())
    out += "; partial grids: " + std::to_string(c.partial_blocks) + " blocks of kernels named *" + c.partial_kernel + "*";
  return out;
}

namespace internal {

DeviceLimits device_limits() {
  const cudaDeviceProp p = props_of(st().cfg.gpu);
  return DeviceLimits{p.sharedMemPerBlock, p.sharedMemPerBlockOptin};
}

void for_each_allocation(const std::function<void(unsigned char* p, size_t n)>& fn) {
  for (auto& [a, al] : st().allocs) fn(reinterpret_cast<unsigned char*>(a), al.n);
}

std::string check_guards() {
#ifdef GPSIM_ASAN
  return "";  // ASan's redzones report an overrun where it happens
#else
  for (auto& [a, al] : st().allocs) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(a);
    for (size_t i = 1; i <= kGuard; i++)
      if (p[-(ptrdiff_t)i] != kGuardByte) {
        char buf[256];
        std::snprintf(buf, sizeof buf, "wrote out of bounds: %zu bytes before the start of an allocation of %zu bytes",
                      i, al.n);
        return buf;
      }
    for (size_t i = 0; i < kGuard; i++)
      if (p[al.n + i] != kGuardByte) {
        char buf[256];
        std::snprintf(buf, sizeof buf, "wrote out of bounds: byte %zu past the end of an allocation of %zu bytes", i,
                      al.n);
        return buf;
      }
  }
  return "";
#endif
}

std::mutex& smem_mu() {  // host threads running blocks note here while the API lock is held
  static std::mutex m;
  return m;
}

void note_static_smem(const void* func, size_t bytes) {
  std::lock_guard<std::mutex> lk(smem_mu());
  size_t& v = st().static_smem[func];
  v = std::max(v, bytes);
}
size_t static_smem_of(const void* func) {
  std::lock_guard<std::mutex> lk(smem_mu());
  auto it = st().static_smem.find(func);
  return it == st().static_smem.end() ? 0 : it->second;
}

}  // namespace internal

void launch_kernel(const char* name, const void* func, dim3 grid, dim3 block, size_t dynamic_smem,
                   cudaStream_t stream, std::shared_ptr<const KernelBody> body) {
  GPSIM_API;
  State& s = S();
  if (s.sticky != cudaSuccess) return;
  const uint64_t threads = (uint64_t)block.x * block.y * block.z;
  if (!block.x || !block.y || !block.z || block.x > 1024 || block.y > 1024 || block.z > 64 || threads > 1024 ||
      !grid.x || !grid.y || !grid.z || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535) {
    set_last(cudaErrorInvalidConfiguration);
    return;
  }
  auto it = s.max_dynamic.find(func);
  const size_t max_dyn = it == s.max_dynamic.end() ? 48 * 1024 : (size_t)it->second;
  if (dynamic_smem > max_dyn || dynamic_smem > internal::device_limits().smem_optin) {
    set_last(cudaErrorInvalidValue);
    return;
  }
  if (!valid_stream(stream)) {
    set_last(cudaErrorInvalidResourceHandle);
    return;
  }
  auto l = std::make_shared<internal::Launch>();
  l->name = name;
  l->func = func;
  l->grid = grid;
  l->block = block;
  l->dynamic_smem = dynamic_smem;
  l->max_dynamic_smem = max_dyn;
  l->body = std::move(body);
  Work w;
  w.kind = Work::kKernel;
  w.launch = std::move(l);
  enqueue(stream_of(stream), std::move(w));
}

namespace detail {
std::string kernel_name_from_signature(const char* pretty) {
  std::string s = pretty;
  size_t b = s.find("F = ");
  if (b == std::string::npos) return s;
  b += 4;
  size_t e = s.rfind(']');
  std::string n = s.substr(b, e == std::string::npos ? std::string::npos : e - b);
  if (!n.empty() && n[0] == '&') n.erase(0, 1);
  for (const char* drop : {"{anonymous}::", "(anonymous namespace)::", "gp::cuda_sim::", "gp::"}) {
    for (size_t p; (p = n.find(drop)) != std::string::npos;) n.erase(p, std::strlen(drop));
  }
  return n;
}
}  // namespace detail

// ---- errors ----------------------------------------------------------------------------

cudaError_t cudaGetLastError() {
  GPSIM_API;
  State& s = S();
  if (s.sticky != cudaSuccess) return s.sticky;
  const cudaError_t e = s.last;
  s.last = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() {
  GPSIM_API;
  return S().sticky != cudaSuccess ? S().sticky : S().last;
}

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
#define GPSIM_NAME(x) \
  case x: return #x;
    GPSIM_NAME(cudaSuccess)
    GPSIM_NAME(cudaErrorInvalidValue)
    GPSIM_NAME(cudaErrorMemoryAllocation)
    GPSIM_NAME(cudaErrorInitializationError)
    GPSIM_NAME(cudaErrorInvalidConfiguration)
    GPSIM_NAME(cudaErrorInvalidDevicePointer)
    GPSIM_NAME(cudaErrorInvalidMemcpyDirection)
    GPSIM_NAME(cudaErrorInsufficientDriver)
    GPSIM_NAME(cudaErrorInvalidDevice)
    GPSIM_NAME(cudaErrorInvalidResourceHandle)
    GPSIM_NAME(cudaErrorIllegalState)
    GPSIM_NAME(cudaErrorNotReady)
    GPSIM_NAME(cudaErrorIllegalAddress)
    GPSIM_NAME(cudaErrorLaunchOutOfResources)
    GPSIM_NAME(cudaErrorLaunchFailure)
    GPSIM_NAME(cudaErrorNotSupported)
    GPSIM_NAME(cudaErrorStreamCaptureUnsupported)
    GPSIM_NAME(cudaErrorStreamCaptureInvalidated)
    GPSIM_NAME(cudaErrorStreamCaptureUnmatched)
    GPSIM_NAME(cudaErrorStreamCaptureUnjoined)
    GPSIM_NAME(cudaErrorStreamCaptureImplicit)
    GPSIM_NAME(cudaErrorUnknown)
#undef GPSIM_NAME
  }
  return "cudaErrorUnknown";
}

static const char* describe_error(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalState: return "the operation is not permitted in the current state";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched: return "capture was not initiated in this stream";
    case cudaErrorStreamCaptureUnjoined: return "capturing stream has unjoined work";
    case cudaErrorStreamCaptureImplicit: return "operation would make the legacy stream depend on a capturing blocking stream";
    default: return "unknown error";
  }
}

const char* cudaGetErrorString(cudaError_t e) {
  GPSIM_API;
  State& s = S();
  if (e == s.sticky && !s.fault.empty()) {
    s.fault_string = std::string(describe_error(e)) + " on the simulated device: " + s.fault;
    return s.fault_string.c_str();
  }
  return describe_error(e);
}

// ---- device ----------------------------------------------------------------------------

cudaError_t cudaGetDeviceCount(int* n) {
  GPSIM_API;
  if (!n) return set_last(cudaErrorInvalidValue);
  *n = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* d) {
  GPSIM_API;
  if (!d) return set_last(cudaErrorInvalidValue);
  *d = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) {
  GPSIM_API;
  return d == 0 ? cudaSuccess : set_last(cudaErrorInvalidDevice);
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  GPSIM_API;
  if (!p) return set_last(cudaErrorInvalidValue);
  if (d != 0) return set_last(cudaErrorInvalidDevice);
  *p = props_of(S().cfg.gpu);
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d) {
  GPSIM_API;
  if (!v) return set_last(cudaErrorInvalidValue);
  if (d != 0) return set_last(cudaErrorInvalidDevice);
  const cudaDeviceProp p = props_of(S().cfg.gpu);
  switch (a) {
    case cudaDevAttrMaxThreadsPerBlock: *v = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *v = (int)p.sharedMemPerBlock; break;
    case cudaDevAttrWarpSize: *v = p.warpSize; break;
    case cudaDevAttrClockRate: *v = p.clockRate; break;
    case cudaDevAttrMultiProcessorCount: *v = p.multiProcessorCount; break;
    case cudaDevAttrMemoryClockRate: *v = p.memoryClockRate; break;
    case cudaDevAttrGlobalMemoryBusWidth: *v = p.memoryBusWidth; break;
    case cudaDevAttrL2CacheSize: *v = p.l2CacheSize; break;
    case cudaDevAttrComputeCapabilityMajor: *v = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *v = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = (int)p.sharedMemPerBlockOptin; break;
    default: return set_last(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}
cudaError_t cudaDeviceGetPCIBusId(char* bus, int len, int d) {
  GPSIM_API;
  (void)bus;
  (void)len;
  if (d != 0) return set_last(cudaErrorInvalidDevice);
  return set_last(cudaErrorNotSupported);  // a simulated device sits on no PCI bus
}
cudaError_t cudaDriverGetVersion(int* v) {
  GPSIM_API;
  if (!v) return set_last(cudaErrorInvalidValue);
  *v = 0;  // no driver: the simulator is the whole runtime
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) {
  GPSIM_API;
  if (!v) return set_last(cudaErrorInvalidValue);
  *v = 13000;  // the runtime API version whose semantics the simulator follows
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  GPSIM_API;
  GPSIM_STICKY;
  if (refused_in_capture()) return set_last(cudaErrorStreamCaptureUnsupported);
  flush_all();
  return S().sticky;
}
cudaError_t cudaDeviceReset() {
  GPSIM_API;
  State& s = S();
  s.legacy_queue.clear();
  for (Stream* q : s.streams) delete q;
  s.streams.clear();
  for (Event* e : s.events) delete e;
  s.events.clear();
  for (auto& [a, al] : s.allocs) std::free(al.raw);
  s.allocs.clear();
  s.allocated = 0;
  s.sticky = cudaSuccess;
  s.last = cudaSuccess;
  s.fault.clear();
  s.max_dynamic.clear();
  s.capturing = 0;
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!free_bytes || !total_bytes) return set_last(cudaErrorInvalidValue);
  *total_bytes = props_of(S().cfg.gpu).totalGlobalMem;
  *free_bytes = *total_bytes - std::min(*total_bytes, S().allocated + kContextBytes);
  return cudaSuccess;
}

// ---- memory ------------------------------------------------------------------------------

cudaError_t cudaMalloc(void** p, size_t bytes) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!p) return set_last(cudaErrorInvalidValue);
  if (refused_in_capture()) return set_last(cudaErrorStreamCaptureUnsupported);
  State& s = S();
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;
  const size_t total = props_of(s.cfg.gpu).totalGlobalMem;
  if (bytes > total - std::min(total, s.allocated + kContextBytes)) return set_last(cudaErrorMemoryAllocation);
#ifdef GPSIM_ASAN
  void* raw = nullptr;
  if (posix_memalign(&raw, 256, bytes) != 0) return set_last(cudaErrorMemoryAllocation);  // exact size
  unsigned char* dev = static_cast<unsigned char*>(raw);
#else
  const size_t padded = kGuard + (bytes + kGuard + 255) / 256 * 256;
  void* raw = std::aligned_alloc(256, padded);
  if (!raw) return set_last(cudaErrorMemoryAllocation);
  unsigned char* dev = static_cast<unsigned char*>(raw) + kGuard;
  std::memset(raw, kGuardByte, kGuard);
  std::memset(dev + bytes, kGuardByte, padded - kGuard - bytes);
#endif
  std::memset(dev, 0xff, bytes);  // poison: NaN as f16 and f32, -1 as integers
  s.allocs[reinterpret_cast<uintptr_t>(dev)] = Alloc{static_cast<unsigned char*>(raw), bytes};
  s.allocated += bytes;
  *p = dev;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!p) return cudaSuccess;
  if (refused_in_capture()) return set_last(cudaErrorStreamCaptureUnsupported);
  State& s = S();
  flush_all();  // cudaFree waits for the device
  auto it = s.allocs.find(reinterpret_cast<uintptr_t>(p));
  if (it == s.allocs.end()) return set_last(cudaErrorInvalidValue);
  s.allocated -= it->second.n;
  std::free(it->second.raw);
  s.allocs.erase(it);
  return s.sticky;
}

namespace {

// Checks a copy's pointers for its kind; cudaMemcpyDefault is resolved from the pointers.
cudaError_t check_copy(void* dst, const void* src, size_t n, cudaMemcpyKind* k) {
  const bool dst_dev = find_alloc(dst, 0) != nullptr, src_dev = find_alloc(src, 0) != nullptr;
  if (*k == cudaMemcpyDefault)
    *k = dst_dev ? (src_dev ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                 : (src_dev ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  if ((int)*k < 0 || (int)*k > 4) return cudaErrorInvalidMemcpyDirection;
  if (n == 0) return cudaSuccess;
  if (!dst || !src) return cudaErrorInvalidValue;
  const bool want_dst = *k == cudaMemcpyHostToDevice || *k == cudaMemcpyDeviceToDevice;
  const bool want_src = *k == cudaMemcpyDeviceToHost || *k == cudaMemcpyDeviceToDevice;
  if (want_dst && !find_alloc(dst, n)) return cudaErrorInvalidValue;  // not device memory, or past its end
  if (want_src && !find_alloc(src, n)) return cudaErrorInvalidValue;
  return cudaSuccess;
}

Work copy_work(void* dst, const void* src, size_t n, cudaMemcpyKind k, bool stage) {
  Work w;
  w.kind = Work::kCopy;
  w.dst = dst;
  w.src = src;
  w.n = n;
  if (stage && k == cudaMemcpyHostToDevice) {  // pageable host memory is staged when the copy is issued
    auto b = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(src),
                                                          static_cast<const unsigned char*>(src) + n);
    w.staged = std::move(b);
  }
  return w;
}

Work set_work(void* p, int value, size_t n) {
  Work w;
  w.kind = Work::kSet;
  w.dst = p;
  w.n = n;
  w.value = value & 0xff;  // cudaMemset sets bytes to the low byte of value
  return w;
}

}  // namespace

cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind k) {
  GPSIM_API;
  GPSIM_STICKY;
  if (refused_in_capture()) return set_last(cudaErrorStreamCaptureUnsupported);
  if (cudaError_t e = check_copy(dst, src, n, &k)) return set_last(e);
  if (n == 0) return cudaSuccess;
  State& s = S();
  switch (k) {
    case cudaMemcpyHostToDevice:
      // CUDA: waits for the legacy stream, stages the pageable buffer and returns; the
      // copy into device memory runs on the legacy stream, not ordered with non-blocking streams
      flush(s.legacy_queue);
      enqueue(&s.legacy, copy_work(dst, src, n, k, true));
      break;
    case cudaMemcpyDeviceToHost:
      flush(s.legacy_queue);
      if (s.sticky == cudaSuccess) std::memcpy(dst, src, n);
      break;
    case cudaMemcpyDeviceToDevice: enqueue(&s.legacy, copy_work(dst, src, n, k, false)); break;
    default: std::memmove(dst, src, n); break;
  }
  return s.sticky;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind k, cudaStream_t st_) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!valid_stream(st_)) return set_last(cudaErrorInvalidResourceHandle);
  if (cudaError_t e = check_copy(dst, src, n, &k)) return set_last(e);
  if (n == 0) return cudaSuccess;
  Stream* q = stream_of(st_);
  if (k == cudaMemcpyHostToHost && !q->capturing) {
    flush(*q->queue);
    std::memmove(dst, src, n);
    return S().sticky;
  }
  enqueue(q, copy_work(dst, src, n, k, !q->capturing));
  return cudaSuccess;
}

cudaError_t cudaMemset(void* p, int value, size_t n) {
  GPSIM_API;
  GPSIM_STICKY;
  if (refused_in_capture()) return set_last(cudaErrorStreamCaptureUnsupported);
  if (n && !find_alloc(p, n)) return set_last(cudaErrorInvalidValue);
  enqueue(&S().legacy, set_work(p, value, n));
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t s) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!valid_stream(s)) return set_last(cudaErrorInvalidResourceHandle);
  if (n && !find_alloc(p, n)) return set_last(cudaErrorInvalidValue);
  enqueue(stream_of(s), set_work(p, value, n));
  return cudaSuccess;
}

// ---- streams and events --------------------------------------------------------------------

cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!s || (flags & ~cudaStreamNonBlocking)) return set_last(cudaErrorInvalidValue);
  Stream* x = new Stream;
  x->flags = flags;
  x->queue = (flags & cudaStreamNonBlocking) ? &x->own : &S().legacy_queue;
  S().streams.insert(x);
  *s = x;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!s || !S().streams.count(s)) return set_last(cudaErrorInvalidResourceHandle);
  if (s->capturing) return set_last(cudaErrorStreamCaptureUnsupported);
  flush(*s->queue);  // work already queued still runs
  S().streams.erase(s);
  for (Event* e : S().events)
    if (e->stream == s) e->stream = nullptr;
  delete s;
  return S().sticky;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!valid_stream(s)) return set_last(cudaErrorInvalidResourceHandle);
  Stream* q = stream_of(s);
  if (q->capturing) {
    q->capture_invalid = true;
    return set_last(cudaErrorStreamCaptureUnsupported);
  }
  if (refused_in_capture() && q->legacy) return set_last(cudaErrorStreamCaptureImplicit);
  flush(*q->queue);
  return S().sticky;
}

cudaError_t cudaStreamQuery(cudaStream_t s) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!valid_stream(s)) return set_last(cudaErrorInvalidResourceHandle);
  Stream* q = stream_of(s);
  if (q->capturing) return set_last(cudaErrorStreamCaptureUnsupported);
  return q->queue->empty() ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!valid_stream(s) || !e || !S().events.count(e)) return set_last(cudaErrorInvalidResourceHandle);
  // the simulator orders it by running the event's stream up to the event now
  if (e->recorded && !e->done && e->stream) flush(*e->stream->queue, e->seq);
  return S().sticky;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!e) return set_last(cudaErrorInvalidValue);
  Event* x = new Event;
  x->flags = flags;
  S().events.insert(x);
  *e = x;
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  GPSIM_API;
  if (!e || !S().events.count(e)) return set_last(cudaErrorInvalidResourceHandle);
  S().events.erase(e);
  // a pending record of it must not touch freed memory: drop the pointer from queued work
  auto scrub = [&](std::deque<Work>& q) {
    for (Work& w : q)
      if (w.kind == Work::kEvent && w.event == e) w.kind = Work::kSet, w.n = 0, w.dst = nullptr;
  };
  scrub(S().legacy_queue);
  for (Stream* q : S().streams) scrub(q->own);
  delete e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!e || !S().events.count(e) || !valid_stream(s)) return set_last(cudaErrorInvalidResourceHandle);
  Stream* q = stream_of(s);
  e->recorded = true;
  e->done = false;
  e->stream = q->legacy ? &S().legacy : q;
  Work w;
  w.kind = Work::kEvent;
  w.event = e;
  enqueue(q, std::move(w));
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!e || !S().events.count(e)) return set_last(cudaErrorInvalidResourceHandle);
  if (refused_in_capture()) return set_last(cudaErrorStreamCaptureUnsupported);
  if (e->recorded && !e->done && e->stream) flush(*e->stream->queue, e->seq);
  return S().sticky;
}

cudaError_t cudaEventQuery(cudaEvent_t e) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!e || !S().events.count(e)) return set_last(cudaErrorInvalidResourceHandle);
  return !e->recorded || e->done ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!ms || !a || !b || !S().events.count(a) || !S().events.count(b)) return set_last(cudaErrorInvalidResourceHandle);
  if ((a->flags | b->flags) & cudaEventDisableTiming) return set_last(cudaErrorInvalidResourceHandle);
  if (!a->recorded || !b->recorded) return set_last(cudaErrorInvalidResourceHandle);
  if (!a->done || !b->done) return set_last(cudaErrorNotReady);
  *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
  return cudaSuccess;
}

// ---- graphs -----------------------------------------------------------------------------------

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!s) return set_last(cudaErrorStreamCaptureUnsupported);  // the legacy stream cannot be captured
  if (!valid_stream(s)) return set_last(cudaErrorInvalidResourceHandle);
  if (s->capturing) return set_last(cudaErrorIllegalState);
  s->capturing = true;
  s->capture_invalid = false;
  s->capture = new Graph;
  S().capturing++;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g) {
  GPSIM_API;
  if (!g) return set_last(cudaErrorInvalidValue);
  *g = nullptr;
  if (!s || !valid_stream(s)) return set_last(cudaErrorInvalidResourceHandle);
  if (!s->capturing) return set_last(cudaErrorStreamCaptureUnmatched);
  s->capturing = false;
  S().capturing--;
  Graph* graph = s->capture;
  s->capture = nullptr;
  if (s->capture_invalid) {
    delete graph;
    return set_last(cudaErrorStreamCaptureInvalidated);
  }
  *g = graph;
  return S().sticky;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus* status) {
  GPSIM_API;
  if (!status || !valid_stream(s)) return set_last(cudaErrorInvalidValue);
  const Stream* q = stream_of(s);
  *status = !q->capturing ? cudaStreamCaptureStatusNone
                          : q->capture_invalid ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t g, unsigned long long) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!exec || !g) return set_last(cudaErrorInvalidValue);
  auto* x = new GraphExec;
  x->nodes = g->nodes;
  *exec = x;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!exec || !valid_stream(s)) return set_last(cudaErrorInvalidResourceHandle);
  Stream* q = stream_of(s);
  for (const Work& w : exec->nodes) {
    Work c = w;
    if (c.kind == Work::kEvent) {
      c.event->recorded = true;
      c.event->done = false;
      c.event->stream = q;
    }
    enqueue(q, std::move(c));
  }
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t g) {
  GPSIM_API;
  if (!g) return set_last(cudaErrorInvalidValue);
  delete g;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  GPSIM_API;
  if (!exec) return set_last(cudaErrorInvalidValue);
  delete exec;
  return cudaSuccess;
}

// ---- kernels ----------------------------------------------------------------------------------

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!func) return set_last(cudaErrorInvalidValue);
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    const internal::DeviceLimits lim = internal::device_limits();
    if (value < 0 || (size_t)value + internal::static_smem_of(func) > lim.smem_optin)
      return set_last(cudaErrorInvalidValue);
    S().max_dynamic[func] = value;
    return cudaSuccess;
  }
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
  return set_last(cudaErrorInvalidValue);
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* a, const void* func) {
  GPSIM_API;
  GPSIM_STICKY;
  if (!a || !func) return set_last(cudaErrorInvalidValue);
  const cudaDeviceProp p = props_of(S().cfg.gpu);
  *a = cudaFuncAttributes{};
  a->sharedSizeBytes = internal::static_smem_of(func);  // as far as its runs so far used
  a->maxThreadsPerBlock = 1024;
  a->ptxVersion = p.major * 10 + p.minor;  // the simulator "compiles" for the device it poses as
  a->binaryVersion = a->ptxVersion;
  auto it = S().max_dynamic.find(func);
  a->maxDynamicSharedSizeBytes = it == S().max_dynamic.end() ? 48 * 1024 : it->second;
  return cudaSuccess;
}

}  // namespace gpsim
