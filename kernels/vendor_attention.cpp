// vendor_attention.cpp: cuDNN's fused attention (scaled dot product attention
// through the cuDNN frontend's graph API) as the vendor version of
// attention_prefill (kernels/ops.h, "vendor" section).
//
// One graph per prefill shape: Q, K, V and O are described in place, with
// strides, as (batch 1, heads, sequence, hd) views of goldpath's layouts, so
// nothing is copied or transposed:
//   q, out   (T, Hq, hd)      -> dims (1, Hq, T, hd)   strides (T*Hq*hd, hd, Hq*hd, 1)
//   caches   (S_cap, Hkv, hd) -> dims (1, Hkv, S, hd)  strides (S*Hkv*hd, hd, Hkv*hd, 1)
// with S = pos0 + T (only the live rows of the caches are described). GQA is
// cuDNN's own (Hkv heads of K and V for Hq heads of Q). The causal mask is the
// diagonal band aligned to the bottom right with right bound 0: query row t
// (position pos0 + t, since s_kv - s_q = pos0) keeps keys j <= pos0 + t. A
// sliding window is the band's left bound: the frontend keeps key j for row t
// when j + window - (s_kv - s_q) > t, i.e. pos0 + t - j < window, which is
// goldpath's rule; a window covering the whole context is left out. Softmax
// scale 1/sqrt(hd) as a pass-by-value scalar; f16 in and out, f32 softmax and
// accumulation (intermediate and compute types FLOAT); no stats output.
//
// Built graphs (validated, lowered, execution plan chosen by heuristics mode
// A and built) are kept for the life of the process in one cache keyed by
// the handle, the device and the shape, with the frontend's message when a
// shape is not supported, so a shape is built (or refused) once. The plan's
// workspace comes from the caller (attention_prefill_cudnn_plan says how
// much), so the launcher allocates no device memory.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "core/error.h"
#include "kernels/cuda_check.h"
#include "kernels/device.h"
#include "kernels/ops.h"

#if defined(GOLDPATH_HAVE_CUDNN) && defined(GOLDPATH_HAVE_CUDNN_FRONTEND)
// Without the frontend's JSON (graph serialization, which goldpath does not
// use; its own nlohmann/json copy then stays out): a third less compile time.
#define CUDNN_FRONTEND_SKIP_JSON_LIB
#include <cudnn.h>
#include <cudnn_frontend.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>
#endif

namespace gp::cuda {

namespace {
constexpr int kMaxCudnnHd = 256;  // cuDNN's fused attention: head sizes up to 256 (f16)
}  // namespace

std::string attention_cudnn_unsupported_reason(const AttentionShape& s, int cc_major, int cc_minor) {
#if !defined(GOLDPATH_HAVE_CUDNN)
  (void)s, (void)cc_major, (void)cc_minor;
  return "this build has no cuDNN (cudnn.h and libcudnn were not found at configure time)";
#elif !defined(GOLDPATH_HAVE_CUDNN_FRONTEND)
  (void)s, (void)cc_major, (void)cc_minor;
  return "this build has no cuDNN frontend (its headers were not found at configure time: "
         "bash scripts/fetch_cudnn_frontend.sh, then configure again)";
#else
  if (cc_major < 8)
    return str("cuDNN's fused attention needs compute capability 8.0 (sm_80, Ampere) or newer; this device is sm_",
               cc_major, cc_minor, cc_major == 7 && cc_minor == 5 ? " (T4 class)" : "");
  if (s.Hq <= 0 || s.Hkv <= 0 || s.Hq % s.Hkv != 0)
    return str(s.Hq, " query heads is not a positive multiple of ", s.Hkv, " kv heads");
  if (s.hd <= 0 || s.hd % 8 != 0 || s.hd > kMaxCudnnHd)
    return str("head size ", s.hd, " is not supported by cuDNN's fused attention (a multiple of 8, at most ",
               kMaxCudnnHd, ")");
  if (s.window < 0) return str("sliding window ", s.window, " is negative");
  return "";
#endif
}

std::string attention_cudnn_unsupported(const AttentionShape& s, int device) {
  std::string why;
  if (device_count(&why) == 0) return why;  // "no CUDA device: ..."
  int major = 0, minor = 0;
  GP_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  GP_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  return attention_cudnn_unsupported_reason(s, major, minor);
}

#if defined(GOLDPATH_HAVE_CUDNN) && defined(GOLDPATH_HAVE_CUDNN_FRONTEND)

namespace {

namespace fe = cudnn_frontend;

// the graph's tensors, named by uid in the variant pack
constexpr int64_t kQ = 1, kK = 2, kV = 3, kO = 4;

struct Plan {
  std::shared_ptr<fe::graph::Graph> graph;  // null when cuDNN does not support the shape
  std::string why;                          // then: the frontend's reason
  int64_t workspace_bytes = 0;
};

// handle, device, T, S, Hq, Hkv, hd, window
using Key = std::tuple<uintptr_t, int, int, int, int, int, int, int>;

std::mutex g_mu;
std::map<Key, Plan>& plans() {
  static auto* m = new std::map<Key, Plan>;  // never destroyed: plans hold cuDNN objects
  return *m;
}

Plan build_plan(int T, int S, const AttentionShape& s, cudnnHandle_t h) {
  const int64_t Hq = s.Hq, Hkv = s.Hkv, hd = s.hd, t = T, kv = S;
  auto g = std::make_shared<fe::graph::Graph>();
  g->set_io_data_type(fe::DataType_t::HALF)
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT);
  auto q = g->tensor(fe::graph::Tensor_attributes()
                         .set_name("q")
                         .set_uid(kQ)
                         .set_dim({1, Hq, t, hd})
                         .set_stride({t * Hq * hd, hd, Hq * hd, 1}));
  auto k = g->tensor(fe::graph::Tensor_attributes()
                         .set_name("k_cache")
                         .set_uid(kK)
                         .set_dim({1, Hkv, kv, hd})
                         .set_stride({kv * Hkv * hd, hd, Hkv * hd, 1}));
  auto v = g->tensor(fe::graph::Tensor_attributes()
                         .set_name("v_cache")
                         .set_uid(kV)
                         .set_dim({1, Hkv, kv, hd})
                         .set_stride({kv * Hkv * hd, hd, Hkv * hd, 1}));
  auto opts = fe::graph::SDPA_attributes()
                  .set_name("attention_prefill")
                  .set_generate_stats(false)
                  .set_attn_scale((float)(1.0 / std::sqrt((double)hd)))
                  .set_diagonal_alignment(fe::DiagonalAlignment_t::BOTTOM_RIGHT)
                  .set_diagonal_band_right_bound(0);
  if (s.window > 0 && s.window < S) opts.set_diagonal_band_left_bound(s.window);
  auto [o, stats] = g->sdpa(q, k, v, opts);
  (void)stats;  // null: no stats without training
  o->set_output(true).set_uid(kO).set_dim({1, Hq, t, hd}).set_stride({t * Hq * hd, hd, Hq * hd, 1});

  Plan p;
  const auto step = [&p](const char* what, fe::error_t e) {
    if (e.is_good()) return true;
    p.why = str("cuDNN frontend ", CUDNN_FRONTEND_MAJOR_VERSION, ".", CUDNN_FRONTEND_MINOR_VERSION, ".",
                CUDNN_FRONTEND_PATCH_VERSION, " with cuDNN ", cudnnGetVersion(), ", ", what, ": ", e.get_message());
    return false;
  };
  if (!step("validate", g->validate()) || !step("build_operation_graph", g->build_operation_graph(h)) ||
      !step("create_execution_plans", g->create_execution_plans({fe::HeurMode_t::A})) ||
      !step("check_support", g->check_support()) || !step("build_plans", g->build_plans()) ||
      !step("get_workspace_size", g->get_workspace_size(p.workspace_bytes)))
    return p;
  p.graph = std::move(g);
  return p;
}

// the cached plan of a prefill (T queries, S = pos0 + T keys) on the current device
Plan find_plan(int T, int pos0, const AttentionShape& s, cudnnHandle_t h) {
  GP_CHECK(h != nullptr, "attention through cuDNN: null cuDNN handle");
  GP_CHECK(T > 0 && pos0 >= 0 && (int64_t)pos0 + T <= 0x7fffffff, "attention through cuDNN: ", T,
           " queries at position ", pos0, " unsupported");
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();  // clears the error
    Plan none;
    none.why = attention_cudnn_unsupported(s, 0);  // "no CUDA device: ..."
    return none;
  }
  const int S = pos0 + T;
  const Key key{reinterpret_cast<uintptr_t>(h), device, T, S, s.Hq, s.Hkv, s.hd, s.window};
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = plans().find(key);
  if (it != plans().end()) return it->second;
  Plan p;
  p.why = attention_cudnn_unsupported(s, device);
  if (p.why.empty()) {
    try {
      p = build_plan(T, S, s, h);
    } catch (const std::exception& e) {  // the frontend throws in a few places
      p = Plan{};
      p.why = str("cuDNN frontend: ", e.what());
    }
  }
  return plans().emplace(key, std::move(p)).first->second;
}

}  // namespace

std::string attention_prefill_cudnn_plan(int T, int pos0, const AttentionShape& s, cudnnHandle_t cudnn,
                                         size_t* workspace_bytes) {
  const Plan p = find_plan(T, pos0, s, cudnn);
  if (workspace_bytes) *workspace_bytes = p.graph ? (size_t)p.workspace_bytes : 0;
  return p.graph ? std::string() : p.why;
}

void attention_prefill_cudnn(half* out, const half* q, const half* k_cache, const half* v_cache, int T, int pos0,
                             const AttentionShape& s, void* workspace, size_t workspace_bytes, cudnnHandle_t cudnn,
                             cudaStream_t stream) {
  if (T == 0) return;
  const Plan p = find_plan(T, pos0, s, cudnn);
  GP_CHECK(p.graph != nullptr, "attention through cuDNN: ", p.why);
  GP_CHECK(out && q && k_cache && v_cache, "attention through cuDNN: null operand");
  GP_CHECK(workspace_bytes >= (size_t)p.workspace_bytes && (workspace || p.workspace_bytes == 0),
           "attention through cuDNN: the plan needs ", p.workspace_bytes, " bytes of workspace, got ",
           workspace_bytes);
  const cudnnStatus_t st = cudnnSetStream(cudnn, stream);
  GP_CHECK(st == CUDNN_STATUS_SUCCESS, "attention through cuDNN: cudnnSetStream failed: ", cudnnGetErrorString(st));
  std::unordered_map<int64_t, void*> pack{{kQ, const_cast<half*>(q)},
                                          {kK, const_cast<half*>(k_cache)},
                                          {kV, const_cast<half*>(v_cache)},
                                          {kO, out}};
  fe::error_t e;
  try {
    e = p.graph->execute(cudnn, pack, workspace);
  } catch (const std::exception& x) {
    fail("attention through cuDNN: execute threw: ", x.what());
  }
  GP_CHECK(e.is_good(), "attention through cuDNN: execute failed: ", e.get_message());
  GP_CUDA_CHECK(cudaGetLastError());
}

#else  // a build without cuDNN or its frontend: the symbols stay and say why

std::string attention_prefill_cudnn_plan(int, int, const AttentionShape& s, cudnnHandle_t, size_t* workspace_bytes) {
  if (workspace_bytes) *workspace_bytes = 0;
  return attention_cudnn_unsupported_reason(s, 0, 0);
}

void attention_prefill_cudnn(half*, const half*, const half*, const half*, int, int, const AttentionShape& s, void*,
                             size_t, cudnnHandle_t, cudaStream_t) {
  fail("attention through cuDNN: ", attention_cudnn_unsupported_reason(s, 0, 0));
}

#endif

}  // namespace gp::cuda
