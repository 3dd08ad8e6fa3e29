// golden_files.h: the model goldens listed in golden/'s manifest, for the
// parameterized tests of every backend, and the verdict over their checks. A
// manifest that cannot be read gives no files here; golden_test's manifest
// test says what is wrong with it.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/golden.h"
#include "harness/verify.h"

namespace gptest {

inline std::string golden_dir() { return std::string(GOLDPATH_SOURCE_DIR) + "/golden"; }

// tokenizer goldens have no /model
inline std::vector<std::string> model_golden_files() {
  std::vector<std::string> out;
  try {
    for (const auto& f : gp::manifest_golden_files(golden_dir()))
      if (gp::GoldenFile(f).exists("/model")) out.push_back(f);
  } catch (const gp::Error&) {
  }
  return out;
}

// Every check whose name starts with `prefix` passes (and there is one);
// else the failures, one line each.
inline ::testing::AssertionResult all_pass(const std::vector<gp::CheckResult>& rs, const std::string& prefix) {
  int n = 0;
  std::string story;
  for (const auto& r : rs) {
    if (r.check.rfind(prefix, 0) != 0) continue;
    n++;
    if (!r.pass) story += "\n" + r.model + " [" + r.backend + "] " + r.check + ": " + r.detail;
  }
  if (n == 0) return ::testing::AssertionFailure() << "no check named " << prefix << "*";
  if (!story.empty()) return ::testing::AssertionFailure() << story;
  return ::testing::AssertionSuccess() << n << " checks pass";
}

}  // namespace gptest
