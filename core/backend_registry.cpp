// backend_registry.cpp: the registered backends (backend_registry.h). The
// table is a function-local static, so registrars in other libraries may run
// before or after any static object of this file.
#include "core/backend_registry.h"

#include <algorithm>

#include "core/error.h"

namespace gp {
namespace {

std::map<std::string, BackendEntry>& table() {
  static std::map<std::string, BackendEntry> t;
  return t;
}

}  // namespace

void register_backend(BackendEntry e) {
  GP_CHECK(!e.name.empty(), "register_backend: an entry without a name");
  GP_CHECK(e.make && e.unavailable && e.ops && e.description, "register_backend: ", e.name,
           " lacks its factory, availability check, op table or description");
  const std::string name = e.name;
  GP_CHECK(table().emplace(name, std::move(e)).second, "register_backend: backend ", name, " is registered twice");
}

std::vector<const BackendEntry*> registered_backends() {
  std::vector<const BackendEntry*> out;
  for (const auto& [name, e] : table()) out.push_back(&e);
  std::stable_sort(out.begin(), out.end(),
                   [](const BackendEntry* a, const BackendEntry* b) { return a->order < b->order; });
  return out;
}

const BackendEntry* find_backend(const std::string& name) {
  auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

}  // namespace gp
