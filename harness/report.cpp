// report.cpp: `goldpath report` (report.h).
#include "harness/report.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/sha256.h"
#include "harness/compare.h"
#include "harness/verify.h"

namespace gp {

namespace fs = std::filesystem;

std::string report_python() {
  const std::string venv = repo_root() + "/.venv-report";
  const std::string py = venv + "/bin/python", stamp = venv + "/.goldpath-requirements.sha256";
  const std::string how = "; create it with: bash " + repo_root() + "/scripts/report_venv.sh";
  GP_CHECK(::access(py.c_str(), X_OK) == 0, "the plotting venv ", venv, " is missing", how);
  std::ifstream in(stamp);
  std::string have;
  in >> have;
  GP_CHECK(have == sha256_file(repo_root() + "/reports/requirements.txt"), "the plotting venv ", venv,
           " does not match reports/requirements.txt", how);
  return py;
}

CLI::App* add_report_command(CLI::App& app, ReportArgs& a) {
  auto* r = app.add_subcommand("report", "Markdown report with plots (report.md + PNG) from bench records");
  r->add_option("RECORDS", a.inputs, "bench records or folders of them (default: the runs folder, reports/runs)");
  r->add_option("--out", a.out, "output folder, replaced as a whole (default: reports/report)");
  return r;
}

namespace {

// Runs argv with extra environment variables; returns the exit status.
int run_process(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  GP_CHECK(pid >= 0, "fork failed: ", std::strerror(errno));
  if (pid == 0) {
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);  // the script's chatter goes to stderr; stdout is the report path
    std::vector<char*> args;
    for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

// The file every report folder goldpath makes holds; only a folder with it is
// ever replaced (a report.md alone may be a user's).
constexpr const char* kReportMarker = ".goldpath-report";

// A folder `out` may be replaced when it is absent, empty or a report folder
// goldpath made (it holds kReportMarker).
void check_replaceable(const std::string& out) {
  std::error_code ec;
  if (!fs::exists(out, ec) && !fs::is_symlink(out, ec)) return;
  GP_CHECK(fs::is_directory(fs::symlink_status(out, ec)), out, ": exists and is not a folder");
  GP_CHECK(fs::is_empty(out, ec) || fs::is_regular_file(fs::symlink_status(fs::path(out) / kReportMarker, ec)), out,
           ": exists and is not a report folder goldpath made (it has no ", kReportMarker,
           "); give another --out");
}

// Replaces folder `out` by `tmp`: one rename when out does not exist, else an
// atomic exchange (renameat2 RENAME_EXCHANGE) and removal of the old one.
void replace_folder(const std::string& tmp, const std::string& out) {
  std::error_code ec;
  check_replaceable(out);
  if (!fs::exists(out, ec)) {
    GP_CHECK(::rename(tmp.c_str(), out.c_str()) == 0, out, ": cannot rename into place: ", std::strerror(errno));
    return;
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(tmp, ec);  // now the old report
    return;
  }
  // file systems without RENAME_EXCHANGE: move the old one aside first
  const std::string old = out + ".old." + std::to_string(::getpid());
  GP_CHECK(::rename(out.c_str(), old.c_str()) == 0, out, ": cannot move aside: ", std::strerror(errno));
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::rename(old.c_str(), out.c_str());
    fail(out, ": cannot rename into place: ", why);
  }
  fs::remove_all(old, ec);
}

}  // namespace

int cmd_report(const ReportArgs& a) {
  std::vector<std::string> inputs = a.inputs;
  if (inputs.empty()) {
    const char* env = std::getenv("GOLDPATH_RUNS_DIR");
    inputs.push_back(env && *env ? env : repo_root() + "/reports/runs");
  }
  const std::vector<BenchRecord> recs = load_bench_records(inputs);
  const std::string py = report_python();
  const std::string out = fs::absolute(a.out.empty() ? repo_root() + "/reports/report" : a.out).lexically_normal().string();
  GP_CHECK(!out.empty() && fs::path(out).has_filename(), "--out ", a.out, " names no folder");
  check_replaceable(out);
  std::error_code ec;
  fs::create_directories(fs::path(out).parent_path(), ec);
  // a fresh folder of our own beside `out` (never one that was there)
  std::string tmpl = out + ".tmp.XXXXXX";
  GP_CHECK(::mkdtemp(tmpl.data()) != nullptr, out, ": cannot create a folder beside it: ", std::strerror(errno));
  const std::string tmp = tmpl;
  {
    std::ofstream m(fs::path(tmp) / kReportMarker);
    m << "made by goldpath report; goldpath replaces this folder whole on the next report to it\n";
    if (!m) {
      fs::remove_all(tmp, ec);
      fail(tmp, ": cannot write ", kReportMarker);
    }
  }
  std::vector<std::string> argv = {py, repo_root() + "/reports/make_report.py", "--out", tmp};
  for (const BenchRecord& r : recs) argv.push_back(fs::absolute(r.path).string());
  const int rc = run_process(argv, {{"MPLBACKEND", "Agg"}, {"MPLCONFIGDIR", repo_root() + "/.venv-report/mplconfig"},
                                    {"PYTHONDONTWRITEBYTECODE", "1"}});
  if (rc != 0) {
    fs::remove_all(tmp, ec);
    fail("reports/make_report.py failed (exit ", rc, "); its messages are above");
  }
  try {
    replace_folder(tmp, out);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  std::printf("report: %s/report.md (%zu records)\n", out.c_str(), recs.size());
  return 0;
}

}  // namespace gp
