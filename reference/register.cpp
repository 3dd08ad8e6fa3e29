// register.cpp: the reference as a registered backend (core/backend_registry.h)
// and its one-line description. ReferenceBackend::description() is defined
// here so that a program using the backend also links its registrar.
#include "core/backend_registry.h"
#include "reference/model.h"
#include "reference/registry.h"

namespace gp::ref {
namespace {

const char* const kDescription = "reference: naive CPU ops, float32 activations and KV cache, double accumulation";

BackendEntry entry() {
  BackendEntry e;
  e.name = "reference";
  e.order = 0;
  e.unavailable = [] { return std::string(); };  // runs wherever goldpath does
  e.make = [](const Model& m) -> std::unique_ptr<Backend> { return std::make_unique<ReferenceBackend>(m); };
  e.ops = []() -> const std::map<std::string, OpFn>& { return reference_ops(); };
  e.description = [] { return std::string(kDescription); };
  e.storage = DType::F32;
  return e;  // no device hooks: it runs on the CPU
}

const BackendRegistrar kRegistrar(entry());

}  // namespace

std::string ReferenceBackend::description() const { return kDescription; }

}  // namespace gp::ref
