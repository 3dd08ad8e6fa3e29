// ops_cmd_test.cpp: `goldpath ops`: the case check fails a wrong op, skips
// what cannot run saying why, and the command lists, tests and maps the
// registry.
#include "harness/ops_cmd.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/backend_registry.h"
#include "core/error.h"
#include "tests/harness/run_goldpath.h"

namespace gp {
namespace {

// add, written here as the base: out = a + b
void add_exact(OpArgs& x) {
  const HostTensor &a = x.in("a"), &b = x.in("b");
  HostTensor o;
  o.shape = a.shape;
  o.f.resize(a.f.size());
  for (size_t i = 0; i < a.f.size(); i++) o.f[i] = a.f[i] + b.f[i];
  x.out() = o;
}

const std::map<std::string, OpFn> kBase = {{"add", add_exact}};

OpCaseResult check(const OpFn& fn, bool simulated = false, double sim_gflop = 1.0, DType storage = DType::F32) {
  BackendEntry be;
  be.name = "under-test";
  be.simulated = simulated;
  be.storage = storage;
  return check_op_case(be, "add", fn, *find_op("add"), 0, kBase, 7, sim_gflop);
}

TEST(OpsCase, ExactIsOkAndOneWrongValueFails) {
  const OpCaseResult ok = check(add_exact);
  EXPECT_EQ(ok.result, "OK") << ok.detail;
  EXPECT_EQ(ok.max_abs, 0.0);
  EXPECT_EQ(ok.compared, 5 * 67);
  EXPECT_GT(ok.bound, 0.0);
  const OpCaseResult bad = check([](OpArgs& x) {
    add_exact(x);
    x.out().f[100] += 0.5f;  // one value off, far beyond float32 rounding
  });
  EXPECT_EQ(bad.result, "FAIL");
  EXPECT_NE(bad.detail.find("[100]"), std::string::npos) << bad.detail;
  EXPECT_NEAR(bad.max_abs, 0.5, 1e-6);
  // f16 storage is held to the wider f16 tolerance: a half-precision rounding passes there, not in f32
  auto rounded = [](OpArgs& x) {
    add_exact(x);
    for (float& v : x.out().f) v *= 1.0f + 1.0f / 1024;
  };
  EXPECT_EQ(check(rounded).result, "FAIL");
  EXPECT_EQ(check(rounded, false, 1.0, DType::F16).result, "OK");
  const OpCaseResult nan = check([](OpArgs& x) {
    add_exact(x);
    x.out().f[3] = NAN;
  });
  EXPECT_EQ(nan.result, "FAIL");
  EXPECT_NE(nan.detail.find("non-finite"), std::string::npos) << nan.detail;
  const OpCaseResult shape = check([](OpArgs& x) {
    add_exact(x);
    x.out().shape = {67, 5};
  });
  EXPECT_EQ(shape.result, "FAIL");
}

TEST(OpsCase, ErrorsFailUnsupportedSkipsAndTheSimulatorLimitSaysSo) {
  const OpCaseResult err = check([](OpArgs&) { fail("kernel launch failed"); });
  EXPECT_EQ(err.result, "FAIL");
  EXPECT_EQ(err.detail, "kernel launch failed");
  const OpCaseResult un = check([](OpArgs&) { throw UnsupportedOp("needs sm_80"); });
  EXPECT_EQ(un.result, "SKIP");
  EXPECT_EQ(un.detail, "needs sm_80");
  const OpCaseResult big = check(add_exact, true, 1e-12);
  EXPECT_EQ(big.result, "SKIP");
  EXPECT_NE(big.detail.find("--sim-max-gflop"), std::string::npos) << big.detail;
  EXPECT_EQ(check(add_exact, true, 1.0).result, "OK");
}

TEST(Ops, ListHasEveryShapeOfEveryOp) {
  const Ran r = run_goldpath({"ops", "--list", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  size_t shapes = 0;
  for (const OpSpec& op : op_registry()) shapes += op.shapes.size();
  EXPECT_EQ(j.size(), shapes);
  const Ran s = run_goldpath({"ops", "--mode", "support", "--format", "json"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const auto m = nlohmann::json::parse(s.out);
  for (const OpSpec& op : op_registry()) {
    ASSERT_TRUE(m.contains(op.name)) << op.name;
    EXPECT_TRUE(m[op.name]["reference"].get<bool>()) << op.name;
  }
}

TEST(Ops, TestModeOnTheOddShapes) {
  const Ran r = run_goldpath({"ops", "--shape", "odd", "--format", "json"});
#ifndef GOLDPATH_HAVE_SIM
  if (r.exit_code != 0 && r.err.find("no backend but the reference") != std::string::npos)
    GTEST_SKIP() << "no backend but the reference in this build: " << r.err;
#endif
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_GT(j["passed"].get<int>(), 10);
  bool sim = false;
  for (const auto& c : j["cases"]) {
    sim |= c["backend"] == "cuda-sim";
    EXPECT_NE(c["backend"], "reference");
    EXPECT_NE(c["shape"].get<std::string>().find("odd"), std::string::npos);
    if (c["result"] == "OK") EXPECT_LE(c["max_abs"].get<double>(), c["tolerance"].get<double>());
  }
#ifdef GOLDPATH_HAVE_SIM
  EXPECT_TRUE(sim) << r.out;
#endif
  // one version alone, in a table with the summary line
  const Ran v = run_goldpath({"ops", "--op", "linear.mma", "--shape", "odd", "--backend", "all"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out.find("linear.gemv"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("0 failed"), std::string::npos) << v.out;
}

TEST(Ops, PerfTimesTheReferenceAndSaysWhyNotTheSimulator) {
  const Ran r = run_goldpath({"ops", "--mode", "perf", "--op", "rmsnorm", "--shape", "odd", "-r", "3", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j.size(), 1u);
  for (const auto& c : j) {
    EXPECT_EQ(c["backend"], "reference");
    EXPECT_EQ(c["samples_us"].size(), 3u);
    EXPECT_GT(c["median_us"].get<double>(), 0.0);
  }
#ifdef GOLDPATH_HAVE_SIM
  EXPECT_NE(r.err.find("cuda-sim not timed"), std::string::npos) << r.err;
#endif
}

TEST(Ops, BadInputIsOneLine) {
  EXPECT_TRUE(fails_cleanly(run_goldpath({"ops", "--op", "frobnicate"}), "frobnicate"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"ops", "--op", "linear.nope", "--backend", "all"}), "linear.nope"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"ops", "--backend", "tpu"}), "tpu"));
  EXPECT_EQ(run_goldpath({"ops", "--mode", "fast"}).exit_code, 2);
  EXPECT_TRUE(fails_cleanly(run_goldpath({"ops", "--backend", "reference"}), "no backend but the reference"));
}

}  // namespace
}  // namespace gp
