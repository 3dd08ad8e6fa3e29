// backends.h: the backends this program links, by name, for the harness: a
// thin layer over core/backend_registry.h.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/model.h"
#include "core/ops.h"

namespace gp {

// Names of the registered backends usable on this machine, in registry order
// ("reference"; "cuda", "cublas" with kernels/ and a device; "cuda-sim" with sim/).
std::vector<std::string> available_backends();
// Every backend goldpath knows that cannot run here, with why not: registered
// ones that say so, and those this build lacks.
std::map<std::string, std::string> unavailable_backends();
// "all" -> available_backends(); "default" -> those but the simulated device
// (cuda-sim: minutes per real model); a known name -> {name}; else gp::Error.
std::vector<std::string> select_backends(const std::string& arg);
std::unique_ptr<Backend> make_backend(const std::string& name, const Model& m);
// One line on what a backend runs each op with, vendor libraries included,
// and which ops have no vendor version in this build (printed by verify/run).
std::string backend_description(const std::string& name);
// The backend's op table, for per-op golden checks.
const std::map<std::string, OpFn>& backend_ops(const std::string& name);
// How the backend stores activations (its registry entry: F16 for the CUDA
// backends, F32 for the reference; F32 for any unregistered name): picks the
// tolerance its results are held to.
DType storage_dtype(const std::string& name);
// Whether it runs on a simulated device (its times are never speed).
bool is_simulated(const std::string& name);

}  // namespace gp
