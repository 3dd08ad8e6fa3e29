// backend_registry_test.cpp: the backend registry (core/backend_registry.h):
// entries are found by name and listed by order, and a nameless, incomplete or
// second entry of one name is refused. The entries here are this binary's own
// (core_tests links no backend library).
#include <gtest/gtest.h>

#include "core/backend_registry.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

const std::map<std::string, OpFn>& no_ops() {
  static const std::map<std::string, OpFn> none;
  return none;
}

BackendEntry fake(const std::string& name, int order) {
  BackendEntry e;
  e.name = name;
  e.order = order;
  e.unavailable = [] { return std::string(); };
  e.make = [](const Model&) -> std::unique_ptr<Backend> { return nullptr; };
  e.ops = no_ops;
  e.description = [name] { return name + ": a test entry"; };
  e.storage = DType::F16;
  return e;
}

TEST(BackendRegistry, FindsByNameAndListsByOrder) {
  register_backend(fake("registry-test-late", 1000));
  register_backend(fake("registry-test-early", -1000));
  const BackendEntry* e = find_backend("registry-test-early");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->description(), "registry-test-early: a test entry");
  EXPECT_EQ(e->storage, DType::F16);
  EXPECT_FALSE(e->simulated);
  EXPECT_FALSE(e->measure_ceilings) << "device hooks are empty unless set";
  EXPECT_EQ(find_backend("registry-test-absent"), nullptr);
  const auto all = registered_backends();
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all.front()->name, "registry-test-early");
  EXPECT_EQ(all.back()->name, "registry-test-late");
}

TEST(BackendRegistry, RefusesDuplicatesAndIncompleteEntries) {
  register_backend(fake("registry-test-once", 0));
  EXPECT_TRUE(gptest::fails_with([] { register_backend(fake("registry-test-once", 0)); },
                                 {"registry-test-once", "registered twice"}));
  EXPECT_TRUE(gptest::fails_with([] { register_backend(fake("", 0)); }, {"without a name"}));
  BackendEntry no_factory = fake("registry-test-no-factory", 0);
  no_factory.make = nullptr;
  EXPECT_TRUE(gptest::fails_with([&] { register_backend(no_factory); }, {"registry-test-no-factory", "factory"}));
  EXPECT_EQ(find_backend("registry-test-no-factory"), nullptr);
}

}  // namespace
}  // namespace gp
