// backends.h: the backends this build has, by name, for the harness.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/model.h"
#include "core/ops.h"

namespace gp {

// Names of the backends usable on this machine ("reference", and the CUDA ones
// when built with CUDA and a device is present).
std::vector<std::string> available_backends();
// Every backend goldpath knows, usable here or not, with why not when not.
std::map<std::string, std::string> unavailable_backends();
// "all" -> available_backends(); a known name -> {name}; else gp::Error.
std::vector<std::string> select_backends(const std::string& arg);
std::unique_ptr<Backend> make_backend(const std::string& name, const Model& m);
// One line on what a backend runs each op with, vendor libraries included,
// and which ops have no vendor version in this build (printed by verify/run).
std::string backend_description(const std::string& name);
// The backend's op table, for per-op golden checks.
const std::map<std::string, OpFn>& backend_ops(const std::string& name);
// How the backend stores activations (F16 for the CUDA backends, F32 for the
// reference and any other name): picks the tolerance its results are held to.
DType storage_dtype(const std::string& name);

}  // namespace gp
