// ops_bench.cpp: every registered op (core/ops.h) on every shape and version:
// the reference (CPU) and, when a CUDA device is present, every entry of
// cuda_ops() and cublas_ops() (kernels/registry.h). Bytes and FLOPs come from
// the registry's cost model as rate counters (bytes_per_second, flops_per_second;
// times in ns). GPU work runs on operands
// uploaded once (the prepared tables), is timed with CUDA events
// (UseManualTime), warm and with a cold L2 (a buffer twice the L2 size is
// written between iterations, untimed), and is reported as a fraction of the
// bandwidth and f16 GEMM ceilings measured once at start (kernels/ceilings.h).
// Names: <op>/<version>/<shape>[/<dtype>][/warm_l2|cold_l2]. In CTest it runs
// as a smoke test on the odd shapes only (--benchmark_filter=odd).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/ops.h"
#include "harness/records.h"
#include "reference/registry.h"
#ifdef GOLDPATH_HAVE_CUDA
#include <cuda_runtime.h>

#include <memory>

#include "kernels/ceilings.h"
#include "kernels/cuda_check.h"
#include "kernels/device.h"
#include "kernels/device_memory.h"
#include "kernels/gpu_info.h"
#include "kernels/registry.h"
#endif

namespace {

void set_cost_counters(benchmark::State& state, const gp::OpSpec* op, const gp::OpShape& shape) {
  // Google Benchmark's own names: bytes_per_second (SetBytesProcessed), and flops_per_second beside it
  state.SetBytesProcessed((int64_t)(op->bytes(shape) * (double)state.iterations()));
  state.counters["flops_per_second"] =
      benchmark::Counter(op->flops(shape) * (double)state.iterations(), benchmark::Counter::kIsRate);
}

std::string bench_name(const gp::OpSpec& op, const std::string& version, const gp::OpShape& sh) {
  std::string name = op.name + "/" + version + "/" + sh.label;
  if (sh.wtype != gp::DType::F32 || op.name == "linear" || op.name == "embedding")
    name += std::string("/") + gp::dtype_name(sh.wtype);
  return name;
}

// ---------------------------------------------------------------- reference (CPU)
void run_op(benchmark::State& state, const gp::OpSpec* op, gp::OpShape shape, gp::OpFn fn) {
  gp::OpArgs args;
  op->make_inputs(shape, 1234, args);
  for (auto _ : state) {
    fn(args);
    benchmark::DoNotOptimize(args.out().f.data());
  }
  set_cost_counters(state, op, shape);
}

void register_reference() {
  for (const auto& op : gp::op_registry()) {
    auto it = gp::ref::reference_ops().find(op.name);
    if (it == gp::ref::reference_ops().end()) continue;
    for (const auto& sh : op.shapes) {
      // the reference on Llama-2-7B prefill shapes takes minutes: keep it to decode-sized work
      if (op.flops(sh) > 4e9) continue;
      benchmark::RegisterBenchmark(bench_name(op, "reference", sh).c_str(), run_op, &op, sh, it->second)
          ->Unit(benchmark::kNanosecond);
    }
  }
}

#ifdef GOLDPATH_HAVE_CUDA
// ---------------------------------------------------------------- CUDA
gp::cuda::Ceilings g_ceilings;  // measured once in main, before any benchmark runs

// A buffer twice the L2 size; writing it evicts an op's operands from L2.
class L2Flush {
 public:
  L2Flush() {
    int l2 = 0;
    GP_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
    buf_ = gp::cuda::DeviceBuffer(alloc_, (size_t)std::max(l2, 1 << 20) * 2, gp::cuda::MemCategory::Workspace,
                                  "L2 flush buffer");
  }
  void run(cudaStream_t s) { GP_CUDA_CHECK(cudaMemsetAsync(buf_.get(), 0x5a, buf_.bytes(), s)); }

 private:
  gp::cuda::DeviceAllocator alloc_;
  gp::cuda::DeviceBuffer buf_;
};

L2Flush& l2_flush() {
  static L2Flush* f = new L2Flush;  // never destroyed: CUDA calls from static destructors run after shutdown
  return *f;
}

struct Events {
  cudaEvent_t start = nullptr, stop = nullptr;
  Events() {
    GP_CUDA_CHECK(cudaEventCreate(&start));
    GP_CUDA_CHECK(cudaEventCreate(&stop));
  }
  ~Events() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
};

void run_cuda_op(benchmark::State& state, const gp::OpSpec* op, gp::OpShape shape, gp::cuda::PrepareFn prepare,
                 bool cold_l2) {
  double seconds = 0;
  try {
    gp::OpArgs args;
    op->make_inputs(shape, 1234, args);
    gp::cuda::PreparedOp p = prepare(args);  // upload once, outside the timed region
    const cudaStream_t s = gp::cuda::op_stream();
    Events ev;
    if (cold_l2) l2_flush();
    p.launch();  // warm-up: first-launch costs (module load, cuBLAS heuristics) stay untimed
    GP_CUDA_CHECK(cudaStreamSynchronize(s));
    for (auto _ : state) {
      if (cold_l2) l2_flush().run(s);
      GP_CUDA_CHECK(cudaEventRecord(ev.start, s));
      p.launch();
      GP_CUDA_CHECK(cudaEventRecord(ev.stop, s));
      GP_CUDA_CHECK(cudaEventSynchronize(ev.stop));
      float ms = 0;
      GP_CUDA_CHECK(cudaEventElapsedTime(&ms, ev.start, ev.stop));
      state.SetIterationTime(ms / 1e3);
      seconds += ms / 1e3;
    }
    p.finish(args);  // synchronizes and surfaces any asynchronous error
  } catch (const gp::UnsupportedOp& e) {
    // a vendor version this device or build cannot run: said, not timed
    // (Google Benchmark 1.7 has no skip that is not an error)
    state.SkipWithError((std::string("not run on this device: ") + e.what()).c_str());
    return;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  set_cost_counters(state, op, shape);
  if (seconds > 0 && state.iterations() > 0) {
    const double per = seconds / state.iterations();
    state.counters["bw_of_ceiling"] = op->bytes(shape) / per / g_ceilings.bandwidth_bytes_per_s;
    state.counters["flops_of_ceiling"] = op->flops(shape) / per / g_ceilings.fp16_flops_per_s;
  }
}

// "linear.gemv" in table "cuda" -> "cuda.gemv"; "linear" -> "cuda"
std::string version_name(const std::string& table, const std::string& entry) {
  const size_t dot = entry.find('.');
  return dot == std::string::npos ? table : table + entry.substr(dot);
}

void register_cuda() {
  const std::pair<const char*, const std::map<std::string, gp::cuda::PrepareFn>*> tables[] = {
      {"cuda", &gp::cuda::cuda_prepared_ops()}, {"cublas", &gp::cuda::cublas_prepared_ops()}};
  for (const auto& op : gp::op_registry())
    for (const auto& [table, entries] : tables)
      for (const auto& [entry, prepare] : *entries) {
        if (gp::cuda::version_op_name(entry) != op.name) continue;
        for (const auto& sh : op.shapes)
          for (bool cold : {false, true})
            benchmark::RegisterBenchmark((bench_name(op, version_name(table, entry), sh) + (cold ? "/cold_l2" : "/warm_l2")).c_str(),
                                         run_cuda_op, &op, sh, prepare, cold)
                ->UseManualTime()
                ->Unit(benchmark::kNanosecond);
      }
}

// GPU, driver, clocks and the ceilings as the run's context; registers the
// CUDA benchmarks; says why not when there is no device.
void setup_cuda() {
  std::string why;
  if (gp::cuda::device_count(&why) == 0) {
    benchmark::AddCustomContext("cuda", "not benchmarked: " + why);
    return;
  }
  const gp::cuda::GpuInfo g = gp::cuda::gpu_info(0);
  benchmark::AddCustomContext("gpu", g.device.name);
  benchmark::AddCustomContext("compute_capability", gp::str(g.device.cc_major, ".", g.device.cc_minor));
  benchmark::AddCustomContext("cuda_driver_version", std::to_string(g.device.driver_version));
  benchmark::AddCustomContext("cuda_runtime_version", std::to_string(g.device.runtime_version));
  if (g.sample.sm_clock_mhz) benchmark::AddCustomContext("sm_clock_mhz", std::to_string(*g.sample.sm_clock_mhz));
  if (g.sample.memory_clock_mhz)
    benchmark::AddCustomContext("memory_clock_mhz", std::to_string(*g.sample.memory_clock_mhz));
  if (g.sample.temperature_c) benchmark::AddCustomContext("temperature_c", std::to_string(*g.sample.temperature_c));
  if (!g.sample.nvml_note.empty()) benchmark::AddCustomContext("nvml", g.sample.nvml_note);
  g_ceilings = gp::cuda::measure_ceilings(0);
  benchmark::AddCustomContext("ceiling_bandwidth_GBps", std::to_string(g_ceilings.bandwidth_bytes_per_s / 1e9));
  benchmark::AddCustomContext("ceiling_fp16_TFLOPps", std::to_string(g_ceilings.fp16_flops_per_s / 1e12));
  benchmark::AddCustomContext("ceilings", g_ceilings.how());
  register_cuda();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("goldpath_commit", gp::goldpath_commit());  // what `goldpath compare` reports
  try {
    register_reference();
#ifdef GOLDPATH_HAVE_CUDA
    setup_cuda();
#else
    benchmark::AddCustomContext("cuda", "not benchmarked: this build has no CUDA");
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ops_bench: %s\n", e.what());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
