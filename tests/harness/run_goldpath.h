// run_goldpath.h: runs the goldpath binary as a user would (fork/exec, stdout
// and stderr captured) and judges clean failures, for the CLI tests.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace gp {

struct Ran {
  int exit_code = -1;
  int signal = 0;
  std::string out, err;
};

inline std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// exe: the program to run; env: variables set for the child only
inline Ran run_program(const std::string& exe, const std::vector<std::string>& args,
                       const std::vector<std::pair<std::string, std::string>>& env = {}) {
  static int seq = 0;
  const std::string base = (std::filesystem::temp_directory_path() / ("gp_cli_" + std::to_string(::getpid()) + "_" + std::to_string(seq++))).string();
  const std::string out = base + ".out", err = base + ".err";
  pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::freopen(out.c_str(), "w", stdout);
    std::freopen(err.c_str(), "w", stderr);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  Ran r;
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) r.signal = WTERMSIG(st);
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

inline Ran run_goldpath(const std::vector<std::string>& args,
                        const std::vector<std::pair<std::string, std::string>>& env = {}) {
  return run_program(GOLDPATH_EXE, args, env);
}

// A clean failure: exit code != 0, no signal, exactly one line on stderr that
// mentions `needle`.
inline ::testing::AssertionResult fails_cleanly(const Ran& r, const std::string& needle) {
  if (r.signal) return ::testing::AssertionFailure() << "killed by signal " << r.signal << "; stderr: " << r.err;
  if (r.exit_code == 0) return ::testing::AssertionFailure() << "exit 0; stdout: " << r.out;
  size_t lines = 0;
  for (char c : r.err) lines += c == '\n';
  if (lines != 1) return ::testing::AssertionFailure() << lines << " lines on stderr:\n" << r.err;
  if (r.err.find(needle) == std::string::npos)
    return ::testing::AssertionFailure() << "stderr does not mention '" << needle << "': " << r.err;
  return ::testing::AssertionSuccess() << r.err;
}

// A fresh scratch folder per test.
class Scratch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("gp_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    std::filesystem::path p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  std::filesystem::path dir_;
};

}  // namespace gp
