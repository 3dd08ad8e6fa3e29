// ops_cmd.h: `goldpath ops`, the op registry (core/ops.h) as llama.cpp's
// test-backend-ops offers it: every op x version x shape of a backend held to
// the reference with the op's tolerance (--mode test), which backend has
// which op version (--mode support), the reference's own op timings
// (--mode perf), or the registry itself (--list).
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "core/ops.h"

namespace CLI {
class App;
}

namespace gp {

struct OpsArgs {
  std::string op;                 // "" every op; else an op name or an entry ("linear.mma")
  std::string backend = "all";    // a backend, or "all" (every available one)
  std::string mode = "test";      // test | perf | support
  std::string shape;              // only shapes whose label contains this
  std::string format = "table";   // table | json
  bool list = false;
  uint64_t seed = 1234;
  double sim_max_gflop = 1.0;     // simulated device: larger shapes are skipped, saying so
  int repetitions = 5;            // perf
};
struct BackendEntry;

// One op entry of a backend on one shape of its op, held to the reference
// table's function for that op: "OK", "FAIL" (beyond the op's tolerance for
// the backend's activation storage, a non-finite value, or an error) or
// "SKIP" (UnsupportedOp, or a shape over sim_max_gflop on a simulated device).
struct OpCaseResult {
  std::string backend, entry, shape, wtype, result, detail;
  double max_abs = NAN, bound = NAN, nmse = NAN;
  int64_t compared = 0;
};
OpCaseResult check_op_case(const BackendEntry& be, const std::string& entry, const OpFn& fn, const OpSpec& spec,
                           size_t shape, const std::map<std::string, OpFn>& reference, uint64_t seed,
                           double sim_max_gflop);

CLI::App* add_ops_command(CLI::App& app, OpsArgs& a);
int cmd_ops(const OpsArgs& a);

}  // namespace gp
