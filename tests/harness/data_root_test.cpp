// data_root_test.cpp: goldpath finds its data (golden/, models/, reports/)
// from where its binary is or from GOLDPATH_ROOT, never through the source
// folder it was built in: a copy of the binary with no data near it says so.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/harness/run_goldpath.h"

namespace fs = std::filesystem;

namespace gp {
namespace {

class DataRoot : public Scratch {
 protected:
  // the binary, copied to dir_/<sub>/goldpath
  std::string copy_binary(const std::string& sub) {
    fs::create_directories(dir_ / sub);
    const fs::path to = dir_ / sub / "goldpath";
    fs::copy_file(GOLDPATH_EXE, to, fs::copy_options::overwrite_existing);
    fs::permissions(to, fs::perms::owner_all);
    return to.string();
  }
  static std::string source() { return GOLDPATH_SOURCE_DIR; }
};

TEST_F(DataRoot, ACopyWithNoDataNearItSaysWhereItLooked) {
  const std::string exe = copy_binary("bin");
  const Ran r = run_program(exe, {"info", "golden/models/tiny-llama"});
  EXPECT_TRUE(fails_cleanly(r, "cannot find goldpath's data"));
  EXPECT_NE(r.err.find("GOLDPATH_ROOT"), std::string::npos) << r.err;
  // an explicit model path needs no data folder
  const Ran ok = run_program(exe, {"info", source() + "/golden/models/tiny-llama", "--no-tensors"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // --version still answers, with an unknown commit
  const Ran v = run_program(exe, {"--version"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("commit unknown"), std::string::npos) << v.out;
}

TEST_F(DataRoot, InstalledLayoutAndGoldpathRoot) {
  // <prefix>/bin/goldpath finds <prefix>/share/goldpath
  const std::string exe = copy_binary("prefix/bin");
  fs::create_directories(dir_ / "prefix/share/goldpath");
  fs::create_directory_symlink(source() + "/golden", dir_ / "prefix/share/goldpath/golden");
  const Ran r = run_program(exe, {"info", "golden/models/tiny-llama", "--format", "json", "--no-tensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["path"], (dir_ / "prefix/share/goldpath/golden/models/tiny-llama").string());
  // GOLDPATH_ROOT wins, and must hold the data
  const std::string lone = copy_binary("lone");
  const Ran e = run_program(lone, {"info", "golden/models/tiny-llama", "--format", "json", "--no-tensors"},
                            {{"GOLDPATH_ROOT", source()}});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(nlohmann::json::parse(e.out)["path"], source() + "/golden/models/tiny-llama");
  EXPECT_TRUE(fails_cleanly(run_program(lone, {"info", "default"}, {{"GOLDPATH_ROOT", (dir_ / "nothing").string()}}),
                            "holds no golden/MANIFEST.sha256"));
}

}  // namespace
}  // namespace gp
