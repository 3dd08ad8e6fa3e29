// golden_files.h: the model goldens listed in golden/'s manifest, for the
// parameterized tests of every backend. A manifest that cannot be read gives
// no files here; golden_test's manifest test says what is wrong with it.
#pragma once
#include <string>
#include <vector>

#include "core/error.h"
#include "core/golden.h"

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

}  // namespace gptest
