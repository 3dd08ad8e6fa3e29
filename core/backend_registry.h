// backend_registry.h: the backends linked into this program, by name. Each
// backend library registers its own from a static BackendRegistrar
// (reference/register.cpp, kernels/register.cpp, the latter once per build of
// kernels/: "cuda" and "cublas" with nvcc, "cuda-sim" against sim/); harness/
// and bench/ find them here and never name an implementation. A static
// library drops objects nothing refers to, so programs link the backend
// libraries whole (gp_backends, harness/CMakeLists.txt).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/dtype.h"
#include "core/model.h"
#include "core/ops.h"

namespace gp {

// Clocks and temperature of a device now; an absent reading's reason in `note`.
struct DeviceClocks {
  std::optional<int> sm_mhz, memory_mhz, temperature_c;
  std::string note;  // "" when every reading is there
};

// Speed ceilings measured on the device (DESIGN.md, performance model).
struct DeviceCeilings {
  double bandwidth_bytes_per_s = 0;  // a large device copy: (bytes read + written) / time
  double fp16_flops_per_s = 0;       // a large f16 GEMM with f32 accumulation: 2MNK / time
  std::string how;                   // one line: what was measured, sizes, repetitions
  nlohmann::json sizes;              // what the record keeps of it: {"copy": {...}, "gemm": {...}}
};

struct BackendEntry {
  std::string name;  // what --backend takes
  int order = 0;     // listing order, lowest first: reference 0, cuda 10, cublas 20, cuda-sim 30
  std::function<std::string()> unavailable;  // "" when it can run here, else why not
  std::function<std::unique_ptr<Backend>(const Model&)> make;  // throws gp::Error as the backend does
  std::function<const std::map<std::string, OpFn>&()> ops;     // its op table (core/ops.h); listed without a device
  std::function<std::string()> description;  // one line on what it runs each op with (verify and run print it)
  DType storage = DType::F32;  // how it stores activations: picks the tolerance its results are held to
  bool simulated = false;      // runs on a simulated device: its timings are never speed
  // Device hooks for bench records; each may be empty (the reference has none).
  std::function<nlohmann::json()> device_info;  // environment.gpu: name, compute_capability, sm_count, ...
  std::function<DeviceClocks()> sample_clocks;  // never throws
  std::function<DeviceCeilings()> measure_ceilings;
  std::function<int()> kernel_ptx_version;  // ptxVersion its kernels were loaded from (75: compute_75 PTX)
};

// Adds an entry; throws gp::Error for an entry without a name or factory, or
// a name registered twice.
void register_backend(BackendEntry e);
// Every registered entry, by `order` then name.
std::vector<const BackendEntry*> registered_backends();
const BackendEntry* find_backend(const std::string& name);  // nullptr when none has that name

// One per registered entry, with static storage in the library it describes.
struct BackendRegistrar {
  explicit BackendRegistrar(BackendEntry e) { register_backend(std::move(e)); }
};

}  // namespace gp
