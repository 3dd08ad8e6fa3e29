// verify.h: holding a backend to a golden file (golden/FORMAT.md). Used by
// `goldpath verify` and by the tests, so both apply the same checks and the
// same tolerances (core/tolerance.h).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/golden.h"
#include "core/model.h"
#include "core/ops.h"

namespace gp {

struct CheckResult {
  std::string model;    // goldpath_model of the golden file
  std::string check;    // "op rmsnorm/odd", "embedding", "layer 3", "final_norm", "logits", "greedy tokens"
  std::string backend;
  std::string worst;    // the tensor behind the numbers, e.g. "decode 2 layer 3 ffn_out"
  double max_abs = 0;   // of the worst tensor
  double nmse = 0;
  double tol = 0;       // its bound
  int compared = 0;     // tensors compared for this check
  bool pass = true;
  bool skipped = false; // the op version cannot run here (UnsupportedOp); detail says why
  std::string detail;   // on failure: the story in a few lines
};

// JUnit XML of verify's results, as CI systems read it (Jenkins, GitLab,
// GitHub test reporters): one testsuite per model and backend, one testcase
// per check (failure with the story, skipped with the reason), and a
// skipped testcase for every backend that did not run, with why.
std::string verify_junit_xml(const std::vector<CheckResult>& results,
                             const std::map<std::string, std::string>& not_run);

// goldpath's data folder (golden/, models/, reports/, scripts/): $GOLDPATH_ROOT
// when set (it must hold golden/MANIFEST.sha256), else found from the running
// binary: the nearest folder above it that holds golden/MANIFEST.sha256 (a
// binary in build/ of a checkout), or <prefix>/share/goldpath for a binary
// installed in <prefix>/bin (cmake --install). Never the folder the binary
// was configured from. Throws gp::Error saying where it looked.
std::string repo_root();
// "default" -> the SmolLM2 GGUF fetched by scripts/fetch_model.sh; a path
// relative to the repository root (as golden files name their models) or to
// the current folder -> that path; "synthetic:<preset>[:<dtype>]" -> itself.
// Throws gp::Error when it does not exist.
std::string resolve_model(const std::string& arg);

// Every op case under /ops against impl (op name -> function).
std::vector<CheckResult> verify_ops(const GoldenFile& g, const std::string& backend_name,
                                    const std::map<std::string, OpFn>& impl);
// The model checks under /model: per-layer activations of the prefill and
// the decode steps (teacher-forced on the golden ids), logits, greedy tokens.
std::vector<CheckResult> verify_model(const GoldenFile& g, Backend& be, const Model& m);
// Its two halves: activations and logits (teacher-forced) ...
// max_steps >= 1: the prefill and the first max_steps - 1 decode steps only
// (a whole real model on the simulated device takes seconds per step); -1: all.
std::vector<CheckResult> verify_forward(const GoldenFile& g, Backend& be, const Model& m, int max_steps = -1);
// ... and free-running greedy generation, which must give the golden ids exactly.
CheckResult verify_greedy(const GoldenFile& g, Backend& be, const Model& m);

// The tokenizer and chat goldens (golden/tokenizers.h5): per tokenizer, every
// corpus line encoded with and without special tokens, decoded in both skip
// modes, stream-decoded, the extra id sequences, and (for a GGUF model) its
// metadata tokenizer against its tokenizer.json; per chat template, every
// rendering. max_abs counts the lines that differ; detail names the first.
std::vector<CheckResult> verify_tokenizers(const GoldenFile& g);

// Loads one golden op case (/ops/<op>/<case>) as operands and parameters.
OpArgs load_op_case(const GoldenFile& g, const std::string& group);

}  // namespace gp
