// backends.cpp: backend selection (backends.h). CUDA backends join this table
// when kernels/ provides them.
#include "harness/backends.h"

#include "core/error.h"
#include "reference/model.h"
#include "reference/registry.h"

namespace gp {

std::vector<std::string> available_backends() { return {"reference"}; }

std::map<std::string, std::string> unavailable_backends() {
  return {{"cuda", "the CUDA backend is not implemented in this build yet"},
          {"cublas", "the cuBLAS backend is not implemented in this build yet"}};
}

std::vector<std::string> select_backends(const std::string& arg) {
  if (arg == "all") return available_backends();
  for (const auto& b : available_backends())
    if (b == arg) return {b};
  auto un = unavailable_backends();
  auto it = un.find(arg);
  if (it != un.end()) fail("--backend ", arg, " is not available: ", it->second);
  std::string known = "all";
  for (const auto& b : available_backends()) known += ", " + b;
  for (const auto& [b, why] : un) known += ", " + b;
  fail("--backend ", arg, " is unknown (known: ", known, ")");
}

std::unique_ptr<Backend> make_backend(const std::string& name, const Model& m) {
  if (name == "reference") return std::make_unique<ref::ReferenceBackend>(m);
  fail("backend ", name, " cannot be created here");
}

const std::map<std::string, OpFn>& backend_ops(const std::string& name) {
  if (name == "reference") return ref::reference_ops();
  fail("backend ", name, " has no op table");
}

}  // namespace gp
