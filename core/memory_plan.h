// memory_plan.h: how many bytes a backend needs for a model at a context
// length, before anything is allocated; the longest context that fits a
// budget; and the bytes/FLOPs cost model behind decode ceilings and device
// projections. Backends: "reference" (weights as stored, f32 KV cache, f32
// scratch) and the CUDA backends "cuda"/"cublas"/"cuda-sim" (f16/q8_0/q4_0/q4_1 kept as
// stored, f32/bf16 converted to f16, f16 KV cache).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/synthetic.h"

namespace gp {

// The tensors of a loaded model, as WeightEntry rows (tied head once).
std::vector<WeightEntry> model_weights(const Model& m);

struct MemoryPlan {
  std::string backend;
  int64_t context_tokens = 0;  // KV cache length planned for
  int64_t prefill_tokens = 0;  // longest single forward planned for
  int64_t weights = 0;         // as the backend stores them
  int64_t kv_cache = 0;        // context_tokens * kv_bytes_per_token
  int64_t activations = 0;     // scratch of one forward of prefill_tokens (estimate)
  int64_t workspace = 0;       // library workspace, dequantization buffers (estimate)
  int64_t context = 0;         // fixed runtime overhead, e.g. the CUDA context (estimate)
  int64_t kv_bytes_per_token = 0;
  int64_t total() const { return weights + kv_cache + activations + workspace + context; }
  // Bytes each additional context token adds (KV cache; activations grow with prefill only).
  int64_t bytes_per_context_token() const { return kv_bytes_per_token; }
  // "weights 13.5 GiB + KV cache 1.0 GiB (4096 tokens) + activations ... + workspace ... + context ..."
  std::string breakdown() const;
};

// Throws gp::Error for an unknown backend name.
MemoryPlan plan_memory(const std::string& backend, const ModelConfig& cfg, const std::vector<WeightEntry>& weights,
                       int64_t context_tokens, int64_t prefill_tokens);
// Longest context (<= cfg.max_seq_len) whose plan fits budget_bytes with the
// same prefill; 0 when not even the weights and scratch fit.
int64_t max_context_in_budget(const std::string& backend, const ModelConfig& cfg,
                              const std::vector<WeightEntry>& weights, int64_t prefill_tokens, int64_t budget_bytes);
// Throws gp::Error("<what> needs N (...) but the memory budget allows M: weights ...; ...")
// when plan.total() > budget_bytes.
void check_memory_budget(const MemoryPlan& plan, int64_t budget_bytes, const std::string& what);

// A device to project to. The T4: a 16 GB board of which the driver reports
// 15360 MiB (15.0 GiB) usable; 320 GB/s GDDR6; 65 TFLOP/s fp16 tensor-core peak.
struct DeviceProfile {
  std::string name;
  int64_t memory_bytes;
  double bandwidth_bytes_per_s;
  double fp16_flops_per_s;
};
const DeviceProfile& t4_profile();
// "t4" -> its profile; gp::Error naming the known profiles otherwise.
const DeviceProfile& device_profile(const std::string& name);

// Cost model of the forward (matrix products and attention; norms, RoPE and
// sampling are negligible at these sizes).
// Bytes one decode step reads: every weight once + the KV cache of `depth` tokens.
double decode_bytes_per_token(const MemoryPlan& plan, int64_t depth);
// FLOPs of one forward of n tokens after `depth` cached tokens: 2 * weights
// used per token (the head only for the last token) + causal attention.
double forward_flops(const ModelConfig& cfg, int64_t n, int64_t depth);
// Roofline time of that forward on a device: max(bytes / bandwidth, flops / peak).
double projected_forward_s(const MemoryPlan& plan, const ModelConfig& cfg, int64_t n, int64_t depth,
                           double bandwidth_bytes_per_s, double flops_per_s);

}  // namespace gp
