// e2e_bench.cpp: end-to-end Google Benchmarks of the model forward over every
// available backend (harness/backends.h; it links them all): prefill of P
// tokens into an empty cache (e2e_prefill/<model>/<backend>/pp:P) and decode
// of N tokens after an untimed prefill of D tokens
// (e2e_decode/<model>/<backend>/tg:N/depth:D), with tokens_per_second as rate
// counters and the backend's peak memory. Models: the
// tiny golden models and synthetic ones (core/synthetic.h). In CTest it runs
// as a smoke test on the tiny models only (--benchmark_filter=tiny).
// `goldpath bench` is the command-line tool with statistics and records; this
// is the same measurement in Google Benchmark's harness and output formats.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/sampler.h"
#include "harness/backends.h"
#include "harness/records.h"
#include "harness/verify.h"

namespace {

struct BenchModel {
  std::string label, spec;
  int prefill, gen;
  std::vector<int> depths;
};

// label -> spec; the golden models are paths in goldpath's data folder (harness/verify.h: repo_root)
const std::vector<BenchModel>& bench_models() {
  static const std::vector<BenchModel> m = {
      {"tiny-llama", "golden/models/tiny-llama", 64, 16, {0, 64}},
      {"tiny-phi3", "golden/models/tiny-phi3", 64, 16, {0, 64}},
      {"synthetic-tiny-q4_0", "synthetic:tiny:q4_0", 64, 16, {0, 64}},
      {"synthetic-smollm2-135m-q4_1", "synthetic:smollm2-135m:q4_1", 64, 8, {0, 256}},
  };
  return m;
}

// models are loaded (or generated) once, on first use
const gp::Model& model(const std::string& spec) {
  static std::map<std::string, std::unique_ptr<gp::Model>> cache;
  auto& m = cache[spec];
  if (!m) m = gp::load_model(gp::resolve_model(spec));
  return *m;
}

std::vector<int32_t> tokens(int n, int vocab) {
  std::vector<int32_t> t(n);
  for (int i = 0; i < n; i++) t[i] = 3 + (int32_t)((i * 2654435761u) % (unsigned)(vocab - 3));
  return t;
}

void prefill(benchmark::State& state, std::string spec, std::string backend) {
  const gp::Model& m = model(spec);
  auto be = gp::make_backend(backend, m);
  const int P = (int)state.range(0);
  const auto ids = tokens(P, m.cfg.vocab_size);
  gp::Sampler sampler(gp::SamplerConfig{}, m.cfg.vocab_size);
  for (auto _ : state) {  // up to the first token, as core/generate.cpp runs it
    be->reset();
    be->forward_for_sampling(ids.data(), P, 0);
    benchmark::DoNotOptimize(be->sample_next(sampler, {}, nullptr));
  }
  state.counters["tokens_per_second"] = benchmark::Counter((double)P * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["peak_bytes"] = benchmark::Counter((double)be->memory_bytes(), benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
}

void decode(benchmark::State& state, std::string spec, std::string backend) {
  const gp::Model& m = model(spec);
  auto be = gp::make_backend(backend, m);
  const int N = (int)state.range(0), D = (int)state.range(1);
  const auto ctx = tokens(std::max(D, 1), m.cfg.vocab_size);
  gp::Sampler sampler(gp::SamplerConfig{}, m.cfg.vocab_size);
  for (auto _ : state) {
    state.PauseTiming();
    be->reset();
    int32_t next = ctx[0];
    if (D > 0) {
      be->forward_for_sampling(ctx.data(), D, 0);
      next = be->sample_next(sampler, {}, nullptr);
    }
    state.ResumeTiming();
    for (int i = 0; i < N; i++) {  // forward + greedy token, chosen where the logits are
      be->forward_for_sampling(&next, 1, D + i);
      next = be->sample_next(sampler, {}, nullptr);
    }
  }
  state.counters["tokens_per_second"] = benchmark::Counter((double)N * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["peak_bytes"] = benchmark::Counter((double)be->memory_bytes(), benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
}

// from main: the backends register themselves during static initialisation,
// in an order between files that is unspecified
void register_all() {
  for (const std::string& b : gp::available_backends())
    for (const BenchModel& m : bench_models()) {
      benchmark::RegisterBenchmark(("e2e_prefill/" + m.label + "/" + b).c_str(), prefill, m.spec, b)
          ->ArgName("pp")
          ->Arg(16)
          ->Arg(m.prefill)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
      auto* d = benchmark::RegisterBenchmark(("e2e_decode/" + m.label + "/" + b).c_str(), decode, m.spec, b)
                    ->ArgNames({"tg", "depth"})
                    ->Unit(benchmark::kMicrosecond)
                    ->UseRealTime();
      for (int depth : m.depths) d->Args({m.gen, depth});
    }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("goldpath_commit", gp::goldpath_commit());  // what `goldpath compare` reports
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
