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
  // Partial grids, for checking shapes whose whole grid would take minutes
  // here: a launch of a kernel whose name contains `partial_kernel` (when
  // not empty) and whose grid has more than `partial_blocks` blocks runs
  // only that many of them, under every schedule: the first block, the last,
  // and a seeded sample (sample_of_blocks). What the other blocks would have
  // written stays as it was (fresh device memory: the 0xff poison), so a
  // test reads back which outputs were computed and checks those.
  int partial_blocks = 0;
  std::string partial_kernel;
};

// The blocks (linear indices, ascending) a partial grid of `count` of `n`
// runs: 0, n - 1 and a sample seeded by `seed`; all of them when n <= count.
std::vector<uint64_t> sample_of_blocks(uint64_t n, uint64_t count, uint64_t seed);

// The current configuration (from GOLDPATH_SIM_GPU, GOLDPATH_SIM_SCHEDULES,
// GOLDPATH_SIM_STREAMS, GOLDPATH_SIM_THREADS, GOLDPATH_SIM_PARTIAL on first
// use).
Config config();
// Replaces the configuration; waits for all queued work first. Not while a
// stream is being captured.
void set_config(const Config& c);

// The full text of the sticky fault (empty when none): which kernel, block and
// thread, and what went wrong. cudaGetErrorString returns it as well.
std::string last_fault();
// Kernel launches executed since the process started (each schedule counts once).
int64_t launches_executed();
// Of those, the launches that ran a partial grid (Config::partial_blocks).
int64_t partial_launches_executed();
// One line describing the simulated device and configuration.
std::string describe();

}  // namespace gpsim
