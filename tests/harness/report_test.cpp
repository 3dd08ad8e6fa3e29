// report_test.cpp: `goldpath report` on the committed sample records
// (reports/samples/): report.md and its plots, written as a whole. Needs the
// plotting venv (scripts/report_venv.sh; scripts/test.sh creates it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/harness/run_goldpath.h"

namespace gp {
namespace {

namespace fs = std::filesystem;

class Report : public Scratch {
 protected:
  void SetUp() override {
    Scratch::SetUp();
    const std::string py = std::string(GOLDPATH_SOURCE_DIR) + "/.venv-report/bin/python";
    if (::access(py.c_str(), X_OK) != 0) GTEST_SKIP() << "no plotting venv: run scripts/report_venv.sh";
  }
  static std::string samples() { return std::string(GOLDPATH_SOURCE_DIR) + "/reports/samples"; }
};

bool is_png(const fs::path& p) { return slurp(p.string()).rfind("\x89PNG\r\n\x1a\n", 0) == 0; }

TEST_F(Report, SamplesRenderWithPlots) {
  const fs::path out = dir_ / "report";
  const Ran r = run_goldpath({"report", samples(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string md = slurp((out / "report.md").string());
  for (const char* want : {"# goldpath benchmark report", "Sample data", "decode_vs_depth.png", "roofline_R1.png",
                           "memory_breakdown.png", "NVIDIA H200", "Tesla T4", "### Decode speed"})
    EXPECT_NE(md.find(want), std::string::npos) << want;
  for (const char* png : {"decode_vs_depth.png", "prefill_vs_prompt.png", "memory_breakdown.png", "roofline_R1.png"})
    EXPECT_TRUE(is_png(out / png)) << png;
  // a second run replaces the folder as a whole, leaving no temporary folder
  fs::remove(out / "roofline_R1.png");
  ASSERT_EQ(run_goldpath({"report", samples() + "/1-t4-cuda-phi3mini-sample.json", "--out", out.string()}).exit_code, 0);
  EXPECT_TRUE(is_png(out / "roofline_R1.png"));
  EXPECT_FALSE(fs::exists(out / "roofline_R2.png"));
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().filename(), "report") << e.path();
}

TEST_F(Report, RefusesToReplaceAForeignFolder) {
  write("mine/notes.txt", "keep me");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"report", samples(), "--out", (dir_ / "mine").string()}),
                            "is not a report folder goldpath made"));
  EXPECT_EQ(slurp((dir_ / "mine" / "notes.txt").string()), "keep me");
}

// A user's docs/ folder that happens to hold a report.md (with notes and
// subfolders beside it) is not goldpath's to replace: it is refused, whole.
TEST_F(Report, AFolderWithAReportMdOfItsOwnIsKept) {
  write("docs/report.md", "# my own report\n");
  write("docs/notes.txt", "keep me");
  write("docs/sub/deep.txt", "and me");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"report", samples(), "--out", (dir_ / "docs").string()}),
                            "has no .goldpath-report"));
  EXPECT_EQ(slurp((dir_ / "docs" / "report.md").string()), "# my own report\n");
  EXPECT_EQ(slurp((dir_ / "docs" / "notes.txt").string()), "keep me");
  EXPECT_EQ(slurp((dir_ / "docs" / "sub" / "deep.txt").string()), "and me");
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().filename(), "docs") << e.path();
}

// What goldpath made it marks, and replaces on the next report.
TEST_F(Report, ItsOwnFolderCarriesTheMarkerAndIsReplaced) {
  const fs::path out = dir_ / "r";
  ASSERT_EQ(run_goldpath({"report", samples(), "--out", out.string()}).exit_code, 0);
  EXPECT_TRUE(fs::is_regular_file(out / ".goldpath-report"));
  write("r/stale.txt", "from before");
  ASSERT_EQ(run_goldpath({"report", samples(), "--out", out.string()}).exit_code, 0);
  EXPECT_FALSE(fs::exists(out / "stale.txt"));
  EXPECT_TRUE(fs::is_regular_file(out / ".goldpath-report"));
}

TEST_F(Report, NoRecordsFailsCleanly) {
  write("empty/run.json", "{\"kind\": \"run\"}");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"report", (dir_ / "empty").string(), "--out", (dir_ / "r").string()}),
                            "has no bench records"));
}

}  // namespace
}  // namespace gp
