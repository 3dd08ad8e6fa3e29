// faults_test.cpp: the goldpath command under faults: a host memory cap too
// small for the model is a one-line error naming the limit; a run killed
// midway (SIGTERM, SIGINT, SIGKILL) leaves no run record behind, and one
// killed while writing its record removes the temporary file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/harness/run_goldpath.h"

namespace fs = std::filesystem;

namespace gp {
namespace {

using Env = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;

const std::string kTinyLlama = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/tiny-llama";

// ---------------------------------------------------------------- host memory cap

TEST(Faults, MaxHostMemoryTooSmallIsOneLineError) {
  // before the subcommand (global), after it, and from the environment
  EXPECT_TRUE(fails_cleanly(run_goldpath({"--max-host-memory", "10M", "generate", "--model", "default", "--prompt-ids", "1"}),
                            "over the host memory limit of 10.0 MiB"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt-ids", "1", "--max-host-memory", "10M"}),
                            "over the host memory limit of 10.0 MiB"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "--model", "default", "--prompt-ids", "1"}, {{"GOLDPATH_MAX_HOST_MEMORY", "10M"}}),
                            "over the host memory limit of 10.0 MiB"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"--max-host-memory", "ten", "generate", "--model", "default", "--prompt-ids", "1"}),
                            "--max-host-memory: 'ten' is not a size"));
  const Ran r = run_goldpath({"--max-host-memory", "10M", "run", "--model", "default"});
  EXPECT_TRUE(fails_cleanly(r, "model weights"));
}

TEST(Faults, MaxHostMemoryLargeEnoughRuns) {
  const Ran r = run_goldpath({"--max-host-memory", "8M", "generate", "--model", kTinyLlama, "--prompt-ids", "1,2,3",
                              "--max-new-tokens", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// ---------------------------------------------------------------- killed runs

// goldpath started in the background with extra environment, output to files
class Child {
 public:
  Child(const std::vector<std::string>& args, const Env& env, const fs::path& logs) {
    const std::string out = (logs / "stdout").string(), err = (logs / "stderr").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      // as from an interactive shell, whatever ran the tests (a background job ignores SIGINT)
      for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      std::freopen(out.c_str(), "w", stdout);
      std::freopen(err.c_str(), "w", stderr);
      std::vector<char*> argv{const_cast<char*>(GOLDPATH_EXE)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(GOLDPATH_EXE, argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  bool running() {
    if (!done_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) done_ = true;
    return !done_;
  }
  // the wait status, or -1 when it runs for another minute (it is killed then)
  int wait() {
    for (auto end = std::chrono::steady_clock::now() + 60s; running() && std::chrono::steady_clock::now() < end;)
      std::this_thread::sleep_for(10ms);
    return done_ ? status_ : -1;
  }

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  int status_ = 0;
};

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

bool is_temp(const std::string& name) { return name.find(".json.tmp.") != std::string::npos; }

std::string listing(const std::vector<std::string>& files) {
  std::string s;
  for (const auto& f : files) s += " " + f;
  return s.empty() ? " (none)" : s;
}

class KilledRun : public Scratch {
 protected:
  fs::path runs() const { return dir_ / "runs"; }
  fs::path logs() const { return dir_ / "logs"; }
  void SetUp() override {
    Scratch::SetUp();
    fs::create_directories(runs());
    fs::create_directories(logs());
  }
  // goldpath run on the default model (about 10 s), records into runs()
  std::unique_ptr<Child> start_default_run() {
    return std::make_unique<Child>(std::vector<std::string>{"run", "--model", "default"},
                                   Env{{"GOLDPATH_RUNS_DIR", runs().string()}}, logs());
  }
};

TEST_F(KilledRun, SigtermMidwayLeavesNoRecord) {
  auto c = start_default_run();
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(c->running()) << "the run ended before the signal: " << slurp((logs() / "stderr").string());
  c->signal(SIGTERM);
  const int st = c->wait();
  ASSERT_TRUE(WIFEXITED(st)) << "wait status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 128 + SIGTERM);
  EXPECT_TRUE(files_in(runs()).empty()) << "left:" << listing(files_in(runs()));
}

TEST_F(KilledRun, SigkillMidwayLeavesNoRecord) {
  auto c = start_default_run();
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(c->running()) << "the run ended before the signal: " << slurp((logs() / "stderr").string());
  c->signal(SIGKILL);
  const int st = c->wait();
  ASSERT_TRUE(WIFSIGNALED(st)) << "wait status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGKILL);
  // SIGKILL cannot be handled: killed inside write_file_atomic it would leave
  // <record>.json.tmp.<pid>, which no reader takes (they read *.json only).
  // What must never exist is a .json, complete or not.
  for (const auto& f : files_in(runs())) EXPECT_TRUE(is_temp(f)) << "left a record: " << f;
}

// Killed while the record is being written (the test hook holds the record
// in its temporary file): the handler removes it and no .json appears.
void kill_while_writing(int sig, const fs::path& runs, const fs::path& logs) {
  Child c({"run", "--model", kTinyLlama},
          {{"GOLDPATH_RUNS_DIR", runs.string()}, {"GOLDPATH_TEST_RECORD_DELAY_MS", "60000"}}, logs);
  std::vector<std::string> seen;
  for (auto end = std::chrono::steady_clock::now() + 60s; seen.empty() && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(10ms);
    seen = files_in(runs);
  }
  ASSERT_EQ(seen.size(), 1u) << "no temporary record appeared:" << listing(seen) << "\n"
                             << slurp((logs / "stderr").string());
  EXPECT_TRUE(is_temp(seen[0])) << seen[0];
  c.signal(sig);
  const int st = c.wait();
  ASSERT_TRUE(WIFEXITED(st)) << "wait status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 128 + sig);
  EXPECT_TRUE(files_in(runs).empty()) << "left:" << listing(files_in(runs));
}

TEST_F(KilledRun, SigtermWhileWritingRemovesTheTemporaryRecord) { kill_while_writing(SIGTERM, runs(), logs()); }
TEST_F(KilledRun, SigintWhileWritingRemovesTheTemporaryRecord) { kill_while_writing(SIGINT, runs(), logs()); }

TEST_F(KilledRun, CompletedRunLeavesOneRecordAndNoTemporary) {
  Child c({"run", "--model", kTinyLlama}, {{"GOLDPATH_RUNS_DIR", runs().string()}}, logs());
  const int st = c.wait();
  ASSERT_TRUE(WIFEXITED(st)) << "wait status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 0) << slurp((logs() / "stderr").string());
  const auto files = files_in(runs());
  ASSERT_EQ(files.size(), 1u) << listing(files);
  EXPECT_EQ(fs::path(files[0]).extension(), ".json");
}

}  // namespace
}  // namespace gp
