// ops_bench.cpp: every registered op (core/ops.h) on every shape, reference
// version, with the registry's bytes and FLOPs as rate counters. CUDA
// versions join as kernels/ registers them. In CTest it runs as a smoke test
// on the odd shapes only (--benchmark_filter=odd).
#include <benchmark/benchmark.h>

#include "core/ops.h"
#include "reference/registry.h"

namespace {

void run_op(benchmark::State& state, const gp::OpSpec* op, gp::OpShape shape, gp::OpFn fn) {
  gp::OpArgs args;
  op->make_inputs(shape, 1234, args);
  for (auto _ : state) {
    fn(args);
    benchmark::DoNotOptimize(args.out().f.data());
  }
  state.counters["bytes"] = benchmark::Counter(op->bytes(shape) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["flops"] = benchmark::Counter(op->flops(shape) * state.iterations(), benchmark::Counter::kIsRate);
}

bool register_all() {
  for (const auto& op : gp::op_registry()) {
    auto it = gp::ref::reference_ops().find(op.name);
    if (it == gp::ref::reference_ops().end()) continue;
    for (const auto& sh : op.shapes) {
      // the reference on Llama-2-7B prefill shapes takes minutes: keep it to decode-sized work
      if (op.flops(sh) > 4e9) continue;
      std::string name = op.name + "/reference/" + sh.label;
      if (sh.wtype != gp::DType::F32 || op.name == "linear" || op.name == "embedding")
        name += std::string("/") + gp::dtype_name(sh.wtype);
      benchmark::RegisterBenchmark(name.c_str(), run_op, &op, sh, it->second)->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}
const bool registered = register_all();

}  // namespace

BENCHMARK_MAIN();
