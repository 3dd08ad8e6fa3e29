// backends.cpp: backend selection (backends.h), over the backends this
// program links (core/backend_registry.h): the reference always, the CUDA
// ones when this build has kernels/, the simulated device's when it has sim/.
// Names other builds register are listed here only to say why this one lacks them.
#include "harness/backends.h"

#include "core/backend_registry.h"
#include "core/error.h"

namespace gp {
namespace {

// backends other builds of goldpath register, and why this program may lack them
const std::map<std::string, std::string>& not_built() {
  static const std::string no_cuda =
      "this program has no CUDA backends (kernels/ is built for GPUs only when CMake finds nvcc)";
  static const std::map<std::string, std::string> m = {
      {"cuda", no_cuda},
      {"cublas", no_cuda},
      {"cuda-sim", "this program has no simulated device (sim/, GOLDPATH_SIM)"},
  };
  return m;
}

const BackendEntry& entry(const std::string& name, const char* what) {
  const BackendEntry* e = find_backend(name);
  if (e) return *e;
  auto it = not_built().find(name);
  if (it != not_built().end()) fail("backend ", name, " ", what, ": ", it->second);
  fail("backend ", name, " is unknown");
}

}  // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> out;
  for (const BackendEntry* e : registered_backends())
    if (e->unavailable().empty()) out.push_back(e->name);
  return out;
}

std::map<std::string, std::string> unavailable_backends() {
  std::map<std::string, std::string> out;
  for (const BackendEntry* e : registered_backends()) {
    const std::string why = e->unavailable();
    if (!why.empty()) out[e->name] = why;
  }
  for (const auto& [name, why] : not_built())
    if (!find_backend(name)) out[name] = why;
  return out;
}

std::vector<std::string> select_backends(const std::string& arg) {
  if (arg == "all") return available_backends();
  if (arg == "default") {  // all but the simulated device, whose runs of a real model take minutes
    std::vector<std::string> out;
    for (const BackendEntry* e : registered_backends())
      if (!e->simulated && e->unavailable().empty()) out.push_back(e->name);
    return out;
  }
  for (const auto& b : available_backends())
    if (b == arg) return {b};
  auto un = unavailable_backends();
  auto it = un.find(arg);
  if (it != un.end()) fail("--backend ", arg, " is not available: ", it->second);
  std::string known = "default, all";
  for (const auto& b : available_backends()) known += ", " + b;
  for (const auto& [b, why] : un) known += ", " + b;
  fail("--backend ", arg, " is unknown (known: ", known, ")");
}

std::unique_ptr<Backend> make_backend(const std::string& name, const Model& m) {
  const BackendEntry& e = entry(name, "cannot be created");
  const std::string why = e.unavailable();
  if (!why.empty()) fail("backend ", name, " cannot be created: ", why);
  return e.make(m);
}

const std::map<std::string, OpFn>& backend_ops(const std::string& name) {
  return entry(name, "has no op table").ops();
}

DType storage_dtype(const std::string& name) {
  // any other backend (a test's wrapper, say) is held to the strictest bound
  const BackendEntry* e = find_backend(name);
  return e ? e->storage : DType::F32;
}

std::string backend_description(const std::string& name) { return entry(name, "is not in this build").description(); }

bool is_simulated(const std::string& name) {
  const BackendEntry* e = find_backend(name);
  return e && e->simulated;
}

}  // namespace gp
