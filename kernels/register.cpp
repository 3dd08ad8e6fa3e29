// register.cpp: kernels/ as registered backends (core/backend_registry.h),
// with their one-line descriptions and the names this build goes by. Built by
// nvcc for GPUs: "cuda" (goldpath's kernels) and "cublas" (the vendor
// baselines), with the device hooks bench records use. Built against the
// simulated device (GOLDPATH_SIM, namespace gp::cuda_sim): "cuda-sim"
// (goldpath's kernels) only, without device hooks, since cuBLAS and cuDNN
// cannot run there and the simulator's times are not speed. CudaBackend's
// name() and description() are defined here so that a program using the
// backend also links the registrars.
#include "core/backend_registry.h"
#include "core/error.h"
#include "kernels/backend.h"
#include "kernels/ceilings.h"
#include "kernels/device.h"
#include "kernels/gpu_info.h"
#include "kernels/ops.h"
#include "kernels/registry.h"

namespace gp::cuda {
namespace {

#ifdef GOLDPATH_SIM
constexpr bool kSimulated = true;
const char* const kCustomName = "cuda-sim";
#else
constexpr bool kSimulated = false;
const char* const kCustomName = "cuda";
#endif
const char* const kCublasName = "cublas";  // registered by GPU builds only

// ---------------------------------------------------------------------------
// descriptions

std::string custom_description() {
  return str(kCustomName,
             ": goldpath's kernels for every op (linear: GEMV for up to 8 tokens, tensor-core mma.sync GEMM "
             "above), f16 activations and KV cache, f32 accumulation, decode step as a CUDA graph",
             kSimulated ? "; on the simulated device (sim/): it checks function, its times are not speed" : "");
}

// cudnn_why: "" when prefill attention runs through cuDNN, else why not
std::string cublas_description(const std::string& cudnn_why) {
  std::string d = str(kCublasName, ": vendor baseline: every linear through cuBLAS (quantized weights expanded "
                      "to f16 first), prefill attention through cuDNN's fused attention");
  d += cudnn_why.empty() ? " (op-level too: attention.cudnn)"
                         : " where cuDNN has it: not here, " + cudnn_why + ", so goldpath's kernel";
  d += ", decode attention by goldpath's split-K kernel (a cuDNN graph is built per context length; the decode "
       "step is one CUDA graph for every position), the other ops by goldpath's kernels; op-level softmax "
       "through cuDNN";
#ifndef GOLDPATH_HAVE_CUDNN
  d += " (not in this build: cuDNN was not found at configure time)";
#endif
  return d;
}

// ---------------------------------------------------------------------------
// entries

// "" when a device is there, else why not (asked once: the answer does not change)
std::string no_device() {
  static const std::string why = [] {
    std::string w;
    return device_count(&w) > 0 ? std::string() : (w.empty() ? std::string("no CUDA device") : w);
  }();
  return why;
}

[[maybe_unused]] nlohmann::json device_json() {  // unused by the simulated build
  const DeviceInfo d = device_info(0);
  return {{"name", d.name}, {"compute_capability", str(d.cc_major, ".", d.cc_minor)}, {"sm_count", d.sm_count},
          {"memory_bytes", (int64_t)d.total_memory}, {"driver_version", d.driver_version},
          {"cuda_runtime_version", d.runtime_version}};
}

[[maybe_unused]] DeviceClocks clocks() {
  const GpuSample s = sample_gpu(0);
  return {s.sm_clock_mhz, s.memory_clock_mhz, s.temperature_c, s.nvml_note};
}

[[maybe_unused]] DeviceCeilings ceilings() {
  const Ceilings m = measure_ceilings(0);
  DeviceCeilings c;
  c.bandwidth_bytes_per_s = m.bandwidth_bytes_per_s;
  c.fp16_flops_per_s = m.fp16_flops_per_s;
  c.how = m.how();
  c.sizes = {{"copy", {{"bytes", m.copy_bytes}, {"repetitions", m.copy_reps}}},
             {"gemm", {{"m", m.gemm_m}, {"n", m.gemm_n}, {"k", m.gemm_k}, {"repetitions", m.gemm_reps}}}};
  return c;
}

BackendEntry entry(Flavor f) {
  BackendEntry e;
  e.name = f == Flavor::Cublas ? kCublasName : kCustomName;
  e.order = kSimulated ? 30 : f == Flavor::Cublas ? 20 : 10;
  e.unavailable = no_device;
  e.make = [f](const Model& m) -> std::unique_ptr<Backend> { return std::make_unique<CudaBackend>(m, f); };
  if (f == Flavor::Cublas) {
    e.ops = []() -> const std::map<std::string, OpFn>& { return cublas_ops(); };
    // the device and build decide (any head size the CUDA backend takes passes cuDNN's shape checks)
    e.description = [] { return cublas_description(attention_cudnn_unsupported(AttentionShape{1, 1, 64, 0}, 0)); };
  } else {
    e.ops = []() -> const std::map<std::string, OpFn>& { return cuda_ops(); };
    e.description = custom_description;
  }
  e.storage = DType::F16;
  e.simulated = kSimulated;
  if constexpr (!kSimulated) {  // odr-uses here need no definition in a simulated build
    e.device_info = device_json;
    e.sample_clocks = clocks;
    e.measure_ceilings = ceilings;
    e.kernel_ptx_version = [] { return kernel_ptx_version(0); };
  }
  return e;
}

const BackendRegistrar kCustom(entry(Flavor::Custom));
#ifndef GOLDPATH_SIM
const BackendRegistrar kCublas(entry(Flavor::Cublas));
#endif

}  // namespace

std::string flavor_unavailable(Flavor f) {
  return kSimulated && f == Flavor::Cublas ? "cublas: not available on the simulated device" : "";
}

std::string CudaBackend::name() const { return flavor_ == Flavor::Cublas ? kCublasName : kCustomName; }

std::string CudaBackend::description() const {
  std::string d = flavor_ == Flavor::Cublas ? cublas_description(cudnn_attention_why_) : custom_description();
  if (!cudnn_refused_.empty()) d += "; " + cudnn_refused_;
  return d;
}

}  // namespace gp::cuda
