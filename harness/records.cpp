// records.cpp: run records (records.h).
#include "harness/records.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "harness/verify.h"

namespace gp {

namespace {

// the temporary file in flight, for the signal handler: set before the file
// exists, cleared after it is renamed or removed
char g_pending[4096];
volatile std::sig_atomic_t g_has_pending = 0;

struct PendingTemp {
  explicit PendingTemp(const std::string& tmp) {
    if (tmp.size() >= sizeof g_pending) return;  // too long to register: no cleanup on a signal
    std::memcpy(g_pending, tmp.c_str(), tmp.size() + 1);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    g_has_pending = 1;
  }
  ~PendingTemp() {
    g_has_pending = 0;
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
};

}  // namespace

const char* pending_temp_file() noexcept { return g_has_pending ? g_pending : nullptr; }

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  PendingTemp pending(tmp);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    GP_CHECK(out.good(), tmp, ": cannot create: ", std::strerror(errno));
    out << text;
    out.flush();
    if (!out.good()) {
      std::remove(tmp.c_str());
      fail(tmp, ": write failed");
    }
  }
  if (const char* d = std::getenv("GOLDPATH_TEST_RECORD_DELAY_MS"))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atol(d)));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    fail(path, ": cannot rename into place: ", why);
  }
}

namespace {

std::string run_cmd(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto c = line.find(':');
      if (c != std::string::npos) return line.substr(c + 2);
    }
  return "unknown";
}

}  // namespace

std::string iso_utc_now() {
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return ts;
}

namespace {
// the data folder, or "" where there is none (an installed binary has no git either)
std::string root_or_empty() {
  try {
    return repo_root();
  } catch (const Error&) {
    return "";
  }
}
}  // namespace

std::string goldpath_commit() {
  const std::string root = root_or_empty();
  const std::string commit = root.empty() ? "" : run_cmd("git -C '" + root + "' rev-parse HEAD 2>/dev/null");
  return commit.empty() ? "unknown" : commit;
}

nlohmann::json environment_json() {
  nlohmann::json e;
  e["cpu"] = cpu_model();
  e["cpu_threads"] = std::thread::hardware_concurrency();
  struct utsname u;
  if (::uname(&u) == 0) e["os"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  e["compiler"] = __VERSION__;
#ifdef GOLDPATH_BUILD_TYPE
  e["build_type"] = GOLDPATH_BUILD_TYPE;
#endif
  e["commit"] = goldpath_commit();
  const std::string root = root_or_empty();
  const std::string dirty =
      root.empty() ? "" : run_cmd("git -C '" + root + "' status --porcelain --untracked-files=no 2>/dev/null");
  e["dirty"] = !dirty.empty();
  return e;
}

std::string new_record_path(const std::string& kind) {
  const char* env = std::getenv("GOLDPATH_RUNS_DIR");
  const std::string dir = env && *env ? env : repo_root() + "/reports/runs";
  if (!(env && *env)) ::mkdir((repo_root() + "/reports").c_str(), 0755);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) fail(dir, ": cannot create: ", std::strerror(errno));
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  return dir + "/" + ts + "-" + kind + "-" + std::to_string(::getpid()) + ".json";
}

}  // namespace gp
