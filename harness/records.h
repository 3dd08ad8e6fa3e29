// records.h: run records (JSON under reports/runs/) and the environment they
// carry. Written atomically: a temporary file in the same folder, then rename.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace gp {

// Writes text to path via path.tmp.<pid> and rename(); throws gp::Error.
// Readers take only *.json, so a temporary file left by a SIGKILL is never read.
// Test hook: $GOLDPATH_TEST_RECORD_DELAY_MS sleeps between writing and renaming.
void write_file_atomic(const std::string& path, const std::string& text);
// The temporary file write_file_atomic is writing now, or nullptr.
// Async-signal-safe: a signal handler may unlink() it.
const char* pending_temp_file() noexcept;
// CPU model, cores, OS, compiler, build type, commit (when in a git checkout).
nlohmann::json environment_json();
// Now as 2026-12-04T23:40:00Z (records' created_utc).
std::string iso_utc_now();
// The commit of the source tree goldpath finds its data in (repo_root()), or "unknown".
std::string goldpath_commit();
// reports/runs/<UTC time>-<kind>-<pid>.json under the repository root (or under
// $GOLDPATH_RUNS_DIR); the folder is created.
std::string new_record_path(const std::string& kind);

}  // namespace gp
