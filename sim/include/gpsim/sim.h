// gpsim/sim.h: controls of the simulated device that CUDA has no word for:
// which GPU it poses as, the thread schedules every launch runs under, stream
// mode, and the last fault's full text. Every setting also has an environment
// variable (read once, at the first runtime call) so that whole programs can be
// run under another setting without code changes; see sim/README.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gpsim {

// The order in which a block's runnable threads run between two sync points.
struct Schedule {
  enum Kind { kForward, kReverse, kShuffle } kind = kForward;
  uint64_t seed = 0;  // kShuffle: each round's order is a seeded shuffle
  std::string name() const;
};
// "forward", "reverse" or "shuffle:SEED"; throws std::invalid_argument otherwise
Schedule parse_schedule(const std::string& s);

enum class StreamMode {
  kImmediate,  // work runs when it is enqueued
  kDeferred,   // work runs only when something waits for it (a sync point), as late as CUDA allows
};

enum class Gpu { kT4, kH200 };

struct Config {
  Gpu gpu = Gpu::kT4;
  // Every launch runs under each schedule, from the same device memory, and
  // the memory after each must be bitwise identical; a difference is a fault
  // naming the kernel (a race between threads of a block). One entry: no
  // comparison.
  std::vector<Schedule> schedules = {Schedule{}};
  StreamMode streams = StreamMode::kDeferred;
  int host_threads = 0;  // blocks run on this many host threads; 0: all cores
};

// The current configuration (from GOLDPATH_SIM_GPU, GOLDPATH_SIM_SCHEDULES,
// GOLDPATH_SIM_STREAMS, GOLDPATH_SIM_THREADS on first use).
Config config();
// Replaces the configuration; waits for all queued work first. Not while a
// stream is being captured.
void set_config(const Config& c);

// The full text of the sticky fault (empty when none): which kernel, block and
// thread, and what went wrong. cudaGetErrorString returns it as well.
std::string last_fault();
// Kernel launches executed since the process started (each schedule counts once).
int64_t launches_executed();
// One line describing the simulated device and configuration.
std::string describe();

}  // namespace gpsim
