// report.h: `goldpath report`: bench records (reports/FORMAT.md) in, a folder
// with report.md and its PNG plots out. The C++ side reads and checks the
// records and owns the output folder (written to a temporary folder, then
// renamed into place); reports/make_report.py, run in the pinned venv
// .venv-report (scripts/report_venv.sh), writes the Markdown and the plots.
#pragma once
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gp {

struct ReportArgs {
  std::vector<std::string> inputs;  // record files or folders; empty: the runs folder
  std::string out;                  // empty: reports/report under the repository root
};

// The python of .venv-report; throws gp::Error saying how to create it when it
// is missing or its stamp does not match reports/requirements.txt.
std::string report_python();
// Adds the `report` subcommand and its options to app; returns it.
CLI::App* add_report_command(CLI::App& app, ReportArgs& a);
// Writes the report; prints its path; returns the exit code.
int cmd_report(const ReportArgs& a);

}  // namespace gp
