// registry.cpp: CUDA op tables for the op registry (registry.h). Each entry
// checks its operands like reference/registry.cpp, uploads them (activations
// rounded to f16 where the CUDA backends store f16), runs one launcher of
// kernels/ops.h, synchronizes with a check and copies "out" back as float32.
#include "kernels/registry.h"

#include <cublas_v2.h>

#include <cmath>
#include <deque>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/rope.h"
#include "core/quant.h"
#include "kernels/cuda_check.h"
#include "kernels/device.h"
#include "kernels/device_memory.h"
#include "kernels/ops.h"

namespace gp::cuda {
namespace {

// ---------------------------------------------------------------------------
// the tables' device context: one stream, handles made on first use

struct Context {
  std::unique_ptr<DeviceAllocator> alloc;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  DeviceBuffer cublas_ws;
};

// Made on the first call that needs the device; deliberately never destroyed
// (CUDA calls from static destructors run after the runtime has shut down;
// the process exit releases the device).
Context& ctx() {
  static Context* c = [] {
    std::string why;
    GP_CHECK(device_count(&why) > 0, "CUDA op table: ", why);
    auto* k = new Context;
    k->alloc = std::make_unique<DeviceAllocator>();
    GP_CUDA_CHECK(cudaStreamCreateWithFlags(&k->stream, cudaStreamNonBlocking));
    return k;
  }();
  return *c;
}

cublasHandle_t cublas_handle() {
  Context& c = ctx();
  if (!c.cublas) {
    cublasHandle_t h = nullptr;
    GP_CHECK(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS, "CUDA op table: cublasCreate failed");
    c.cublas_ws = DeviceBuffer(*c.alloc, 32u << 20, MemCategory::Workspace, "cuBLAS workspace");
    GP_CHECK(cublasSetStream(h, c.stream) == CUBLAS_STATUS_SUCCESS &&
                 cublasSetWorkspace(h, c.cublas_ws.get(), c.cublas_ws.bytes()) == CUBLAS_STATUS_SUCCESS,
             "CUDA op table: binding cuBLAS to its stream and workspace failed");
    c.cublas = h;
  }
  return c.cublas;
}

// the process's handle (kernels/ops.h); its cuDNN launchers bind it to the stream they are given
cudnnHandle_t cudnn_handle() {
  ctx();  // "no device" as every entry says it
  return process_cudnn_handle();
}

// ---------------------------------------------------------------------------
// operands

const std::vector<float>& floats(const HostTensor& h, const char* op, const char* name) {
  GP_CHECK((int64_t)h.f.size() == h.numel() && h.numel() > 0, op, ": operand ", name, " holds ",
           h.f.size(), " floats for a shape of ", h.numel());
  return h.f;
}

void check_weight(const HostTensor& w, int64_t rows, int64_t cols, const char* op) {
  GP_CHECK(rows > 0 && cols > 0 && weight_size(w) == rows * dtype_row_bytes(w.dtype, cols), op,
           ": weight holds ", weight_size(w), " bytes, (", rows, ", ", cols, ") ", dtype_name(w.dtype),
           " needs ", rows * dtype_row_bytes(w.dtype, cols));
}

DeviceBuffer upload_bytes(const void* p, size_t n, const char* what) {
  DeviceBuffer b(*ctx().alloc, n, MemCategory::Activations, what);
  // on the stream the op runs on: a plain cudaMemcpy from pageable memory is
  // not ordered before work on a non-blocking stream
  GP_CUDA_CHECK(cudaMemcpyAsync(b.get(), p, n, cudaMemcpyHostToDevice, ctx().stream));
  GP_CUDA_CHECK(cudaStreamSynchronize(ctx().stream));  // the host buffer may go away
  return b;
}
DeviceBuffer upload_f32(const std::vector<float>& v, const char* what) {
  return upload_bytes(v.data(), v.size() * 4, what);
}
// float32 values rounded to f16 (the CUDA backends' activation storage)
DeviceBuffer upload_f16(const std::vector<float>& v, const char* what) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); i++) h[i] = gp::f32_to_f16(v[i]);
  return upload_bytes(h.data(), h.size() * 2, what);
}
DeviceBuffer upload_i32(const std::vector<int32_t>& v, const char* what) {
  return upload_bytes(v.data(), v.size() * 4, what);
}
DeviceBuffer alloc_out(size_t bytes) { return DeviceBuffer(*ctx().alloc, bytes, MemCategory::Activations, "op output"); }

// copies `out` (device, f16 or f32, already complete) to a["out"]
void copy_out(OpArgs& a, std::vector<int64_t> shape, const DeviceBuffer& out, bool is_f16) {
  HostTensor& o = a.out();
  o = HostTensor{};
  o.dtype = DType::F32;
  o.shape = std::move(shape);
  const int64_t n = o.numel();
  o.f.resize(n);
  if (is_f16) {
    std::vector<uint16_t> h(n);
    GP_CUDA_CHECK(cudaMemcpy(h.data(), out.get(), (size_t)n * 2, cudaMemcpyDeviceToHost));
    for (int64_t i = 0; i < n; i++) o.f[i] = gp::f16_to_f32(h[i]);
  } else {
    GP_CUDA_CHECK(cudaMemcpy(o.f.data(), out.get(), (size_t)n * 4, cudaMemcpyDeviceToHost));
  }
}

// The device operands of one prepared op, shared by its launch and finish.
struct Operands {
  std::deque<DeviceBuffer> bufs;  // deque: references stay valid as it grows
  DeviceBuffer& add(DeviceBuffer b) {
    bufs.push_back(std::move(b));
    return bufs.back();
  }
};

// A prepared op whose result `out` (one of ops' buffers) has `shape`.
PreparedOp prepared(std::shared_ptr<Operands> ops, std::function<void()> launch, std::vector<int64_t> shape,
                    const DeviceBuffer* out, bool is_f16) {
  PreparedOp p;
  p.launch = [ops, launch] {
    launch();
    GP_CUDA_CHECK(cudaGetLastError());
  };
  p.finish = [ops, shape, out, is_f16](OpArgs& a) {
    GP_CUDA_CHECK(cudaStreamSynchronize(ctx().stream));
    GP_CUDA_CHECK(cudaGetLastError());
    copy_out(a, shape, *out, is_f16);
  };
  p.device_bytes = 0;
  for (const auto& b : ops->bufs) p.device_bytes += (int64_t)b.bytes();
  return p;
}

// a linear weight as the CUDA backends hold it: f16 and block formats as
// stored, f32/bf16 converted to f16 (refused if a value overflows f16)
DeviceBuffer upload_linear_weight(const HostTensor& w, int64_t N, int64_t K, DeviceWeight* dw) {
  dw->rows = N;
  dw->cols = K;
  if (w.dtype == DType::F32 || w.dtype == DType::BF16) {
    std::vector<float> f(N * K);
    dequantize_row(w.dtype, weight_data(w), f.data(), N * K);
    std::vector<uint16_t> h(f.size());
    for (size_t i = 0; i < f.size(); i++) {
      h[i] = gp::f32_to_f16(f[i]);
      GP_CHECK(!std::isfinite(f[i]) || (h[i] & 0x7c00u) != 0x7c00u, "linear: weight value ", f[i], " at ", i,
               " is beyond float16's range (the CUDA kernels read weights as float16)");
    }
    dw->dtype = DType::F16;
    DeviceBuffer b = upload_bytes(h.data(), h.size() * 2, "op weight");
    dw->data = b.as<const uint8_t>();
    return b;
  }
  dw->dtype = w.dtype;
  DeviceBuffer b = upload_bytes(weight_data(w), (size_t)weight_size(w), "op weight");
  dw->data = b.as<const uint8_t>();
  return b;
}

// ---------------------------------------------------------------------------
// the ops: each checks and uploads its operands once and returns a launch
// that only enqueues kernels on the table's stream

PreparedOp prep_embedding(const OpArgs& a) {
  const HostTensor &tab = a.in("table"), &ids = a.in("ids");
  const int64_t V = operand_dim(tab, 0, "embedding", "table"), D = operand_dim(tab, 1, "embedding", "table");
  const int64_t T = operand_dim(ids, 0, "embedding", "ids");
  check_weight(tab, V, D, "embedding");
  GP_CHECK((int64_t)ids.i.size() == T && T > 0, "embedding: ids are not integers");
  for (int64_t t = 0; t < T; t++)
    GP_CHECK(ids.i[t] >= 0 && ids.i[t] < V, "embedding: id ", ids.i[t], " at ", t, " outside the table of ", V, " rows");
  auto o = std::make_shared<Operands>();
  const DeviceBuffer& d_tab = o->add(upload_bytes(weight_data(tab), (size_t)weight_size(tab), "embedding table"));
  const DeviceBuffer& d_ids = o->add(upload_i32(ids.i, "ids"));
  const DeviceBuffer& d_bad = o->add(upload_i32({0}, "bad id flag"));
  const DeviceBuffer& out = o->add(alloc_out((size_t)(T * D * 4)));
  const DeviceWeight w{tab.dtype, d_tab.as<const uint8_t>(), V, D};
  PreparedOp p = prepared(
      o, [&out, w, &d_ids, T, &d_bad] { embedding(out.as<float>(), w, d_ids.as<const int32_t>(), (int)T, d_bad.as<int>(), ctx().stream); },
      {T, D}, &out, false);
  p.finish = [o, inner = p.finish, &d_bad](OpArgs& args) {
    inner(args);
    int bad = 0;
    GP_CUDA_CHECK(cudaMemcpy(&bad, d_bad.get(), 4, cudaMemcpyDeviceToHost));
    GP_CHECK(bad == 0, "embedding: the kernel saw an id out of range at row ", bad - 1);
  };
  return p;
}

PreparedOp prep_rmsnorm(const OpArgs& a) {
  const HostTensor &x = a.in("x"), &w = a.in("weight");
  const int64_t T = operand_dim(x, 0, "rmsnorm", "x"), D = operand_dim(x, 1, "rmsnorm", "x");
  GP_CHECK(w.numel() == D, "rmsnorm: weight has ", w.numel(), " values, x rows have ", D);
  const float eps = (float)a.param("eps");
  auto o = std::make_shared<Operands>();
  // x is the residual stream (f32) in the backends
  const DeviceBuffer& d_x = o->add(upload_f32(floats(x, "rmsnorm", "x"), "x"));
  const DeviceBuffer& d_w = o->add(upload_f32(floats(w, "rmsnorm", "weight"), "weight"));
  const DeviceBuffer& out = o->add(alloc_out((size_t)(T * D * 2)));
  return prepared(
      o, [&out, &d_x, &d_w, T, D, eps] {
        rmsnorm(out.as<half>(), d_x.as<const float>(), nullptr, d_w.as<const float>(), (int)T, (int)D, eps, ctx().stream);
      },
      {T, D}, &out, true);
}

PrepareFn prep_linear(LinearAlgo algo) {
  return [algo](const OpArgs& a) {
    const HostTensor &x = a.in("x"), &w = a.in("weight");
    const int64_t T = operand_dim(x, 0, "linear", "x"), K = operand_dim(x, 1, "linear", "x");
    const int64_t N = operand_dim(w, 0, "linear", "weight");
    GP_CHECK(operand_dim(w, 1, "linear", "weight") == K, "linear: weight has ", w.shape[1], " columns, x has ", K);
    check_weight(w, N, K, "linear");
    auto o = std::make_shared<Operands>();
    DeviceWeight dw;
    o->add(upload_linear_weight(w, N, K, &dw));
    const DeviceBuffer& d_x = o->add(upload_f16(floats(x, "linear", "x"), "x"));
    const DeviceBuffer& out = o->add(alloc_out((size_t)(T * N * 2)));
    const size_t wsb = linear_workspace_bytes(dw, algo);
    void* ws = wsb > 0 ? o->add(DeviceBuffer(*ctx().alloc, wsb, MemCategory::Workspace, "linear workspace")).get() : nullptr;
    cublasHandle_t h = algo == LinearAlgo::Cublas ? cublas_handle() : nullptr;
    return prepared(
        o, [&out, &d_x, dw, T, algo, ws, h] {
          linear(out.as<half>(), nullptr, d_x.as<const half>(), dw, (int)T, algo, ws, h, ctx().stream);
        },
        {T, N}, &out, true);
  };
}

// in place: repeated launches rotate x again (same work, different values)
PreparedOp prep_rope(const OpArgs& a) {
  const HostTensor &x = a.in("x"), &pos = a.in("positions");
  const int64_t T = operand_dim(x, 0, "rope", "x"), H = operand_dim(x, 1, "rope", "x"), hd = operand_dim(x, 2, "rope", "x");
  GP_CHECK((int64_t)pos.i.size() == T, "rope: ", pos.i.size(), " positions for ", T, " rows");
  GP_CHECK(hd % 2 == 0, "rope: head size ", hd, " is odd");
  auto o = std::make_shared<Operands>();
  const DeviceBuffer& d_x = o->add(upload_f16(floats(x, "rope", "x"), "x"));
  const DeviceBuffer& d_pos = o->add(upload_i32(pos.i, "positions"));
  const DeviceBuffer& d_inv = o->add(upload_f32(gp::rope_inv_freq(hd, a.param("theta")), "inv_freq"));
  return prepared(
      o, [&d_x, &d_pos, &d_inv, T, H, hd] {
        rope(d_x.as<half>(), d_pos.as<const int32_t>(), nullptr, d_inv.as<const float>(), (int)T, (int)H, (int)hd,
             ctx().stream);
      },
      {T, H, hd}, &d_x, true);
}

// attention operands, checked on the host
struct AttentionArgs {
  int64_t T = 0, Hq = 0, hd = 0, S = 0, pos0 = 0;
  AttentionShape as;
};
AttentionArgs attention_args(const OpArgs& a) {
  const HostTensor &q = a.in("q"), &k = a.in("k"), &v = a.in("v");
  AttentionArgs r;
  r.T = operand_dim(q, 0, "attention", "q"), r.Hq = operand_dim(q, 1, "attention", "q"), r.hd = operand_dim(q, 2, "attention", "q");
  r.S = operand_dim(k, 0, "attention", "k");
  const int64_t Hkv = operand_dim(k, 1, "attention", "k");
  GP_CHECK(operand_dim(k, 2, "attention", "k") == r.hd && v.shape == k.shape, "attention: k and v must both be (S, Hkv, ", r.hd, ")");
  r.pos0 = (int64_t)a.param("q_pos0");
  const int64_t window = (int64_t)a.param("sliding_window");
  // the kernels read keys from a KV cache that holds exactly the positions before the last query
  GP_CHECK(r.pos0 >= 0 && r.pos0 + r.T == r.S, "attention: the CUDA kernels need S == q_pos0 + T (a KV cache ending at the "
           "last query), got S ", r.S, ", q_pos0 ", r.pos0, ", T ", r.T);
  r.as = AttentionShape{(int)r.Hq, (int)Hkv, (int)r.hd, (int)window};
  return r;
}

// q, k, v uploaded as f16 and the f16 output, in one Operands
struct AttentionBuffers {
  std::shared_ptr<Operands> o;
  const DeviceBuffer *q = nullptr, *k = nullptr, *v = nullptr, *out = nullptr;
};
AttentionBuffers upload_attention(const OpArgs& a, const AttentionArgs& r) {
  AttentionBuffers b;
  b.o = std::make_shared<Operands>();
  b.q = &b.o->add(upload_f16(floats(a.in("q"), "attention", "q"), "q"));
  b.k = &b.o->add(upload_f16(floats(a.in("k"), "attention", "k"), "k"));
  b.v = &b.o->add(upload_f16(floats(a.in("v"), "attention", "v"), "v"));
  b.out = &b.o->add(alloc_out((size_t)(r.T * r.Hq * r.hd * 2)));
  return b;
}

PrepareFn prep_attention(bool allow_decode) {
  return [allow_decode](const OpArgs& a) {
    const AttentionArgs r = attention_args(a);
    const AttentionBuffers b = upload_attention(a, r);
    const AttentionShape as = r.as;
    const int64_t T = r.T, S = r.S, pos0 = r.pos0;
    const DeviceBuffer &out = *b.out, &d_q = *b.q, &d_k = *b.k, &d_v = *b.v;
    if (allow_decode && T == 1) {
      const int p0 = (int)pos0;
      const DeviceBuffer& d_pos0 = b.o->add(upload_bytes(&p0, sizeof(int), "pos0"));
      const size_t pb = attention_decode_partials_bytes(as, (int)S);
      float* part = pb > 0 ? b.o->add(DeviceBuffer(*ctx().alloc, pb, MemCategory::Workspace, "attention partials")).as<float>()
                           : nullptr;
      return prepared(
          b.o, [&out, &d_q, &d_k, &d_v, &d_pos0, S, as, part] {
            attention_decode(out.as<half>(), d_q.as<const half>(), d_k.as<const half>(), d_v.as<const half>(),
                             d_pos0.as<const int>(), (int)S, as, part, ctx().stream);
          },
          {T, r.Hq, r.hd}, &out, true);
    }
    return prepared(
        b.o, [&out, &d_q, &d_k, &d_v, T, pos0, as] {
          attention_prefill(out.as<half>(), d_q.as<const half>(), d_k.as<const half>(), d_v.as<const half>(), (int)T,
                            (int)pos0, as, ctx().stream);
        },
        {T, r.Hq, r.hd}, &out, true);
  };
}

// cuDNN's fused attention (attention_prefill_cudnn). goldpath_decode: T == 1
// runs goldpath's split-K decode kernel instead (the cublas table's
// "attention"); otherwise every T goes through cuDNN ("attention.cudnn").
// Where cuDNN cannot run the operands here, prepare throws UnsupportedOp.
PrepareFn prep_attention_cudnn(bool goldpath_decode) {
  const PrepareFn goldpath = prep_attention(true);
  return [goldpath_decode, goldpath](const OpArgs& a) {
    const AttentionArgs r = attention_args(a);
    if (goldpath_decode && r.T == 1) return goldpath(a);
    ctx();  // "no device" as every entry says it
    int device = 0;
    GP_CUDA_CHECK(cudaGetDevice(&device));
    std::string why = attention_cudnn_unsupported(r.as, device);
    if (!why.empty()) throw UnsupportedOp("attention through cuDNN: " + why);
    cudnnHandle_t h = cudnn_handle();
    size_t wsb = 0;
    why = attention_prefill_cudnn_plan((int)r.T, (int)r.pos0, r.as, h, &wsb);
    if (!why.empty()) throw UnsupportedOp("attention through cuDNN: " + why);
    const AttentionBuffers b = upload_attention(a, r);
    void* ws = wsb > 0 ? b.o->add(DeviceBuffer(*ctx().alloc, wsb, MemCategory::Workspace, "cuDNN attention workspace")).get()
                       : nullptr;
    const AttentionShape as = r.as;
    const int64_t T = r.T, pos0 = r.pos0;
    const DeviceBuffer &out = *b.out, &d_q = *b.q, &d_k = *b.k, &d_v = *b.v;
    return prepared(
        b.o, [&out, &d_q, &d_k, &d_v, T, pos0, as, ws, wsb, h] {
          attention_prefill_cudnn(out.as<half>(), d_q.as<const half>(), d_k.as<const half>(), d_v.as<const half>(),
                                  (int)T, (int)pos0, as, ws, wsb, h, ctx().stream);
        },
        {T, r.Hq, r.hd}, &out, true);
  };
}

PreparedOp prep_swiglu(const OpArgs& a) {
  const HostTensor &g = a.in("gate"), &u = a.in("up");
  GP_CHECK(g.shape == u.shape && g.shape.size() == 2, "swiglu: gate and up must be (T, F) of one shape");
  const int64_t T = g.shape[0], F = g.shape[1];
  auto o = std::make_shared<Operands>();
  const DeviceBuffer& d_g = o->add(upload_f16(floats(g, "swiglu", "gate"), "gate"));
  const DeviceBuffer& d_u = o->add(upload_f16(floats(u, "swiglu", "up"), "up"));
  const DeviceBuffer& out = o->add(alloc_out((size_t)(T * F * 2)));
  return prepared(
      o, [&out, &d_g, &d_u, T, F] { swiglu(out.as<half>(), d_g.as<const half>(), d_u.as<const half>(), (int)T, (int)F, F, ctx().stream); },
      g.shape, &out, true);
}

// in place: repeated launches add b again (same work, different values)
PreparedOp prep_add(const OpArgs& a) {
  // the residual add: a is the f32 residual stream, b an f16 layer output
  const HostTensor &x = a.in("a"), &y = a.in("b");
  GP_CHECK(x.shape == y.shape, "add: a and b differ in shape");
  auto o = std::make_shared<Operands>();
  const DeviceBuffer& d_x = o->add(upload_f32(floats(x, "add", "a"), "a"));
  const DeviceBuffer& d_y = o->add(upload_f16(floats(y, "add", "b"), "b"));
  const int64_t n = x.numel();
  return prepared(
      o, [&d_x, &d_y, n] { add_residual(d_x.as<float>(), d_y.as<const half>(), n, ctx().stream); }, x.shape, &d_x,
      false);
}

PrepareFn prep_softmax(bool vendor) {
  return [vendor](const OpArgs& a) {
    const HostTensor& x = a.in("x");
    const int64_t T = operand_dim(x, 0, "softmax", "x"), N = operand_dim(x, 1, "softmax", "x");
    auto o = std::make_shared<Operands>();
    const DeviceBuffer& d_x = o->add(upload_f32(floats(x, "softmax", "x"), "x"));
    const DeviceBuffer& out = o->add(alloc_out((size_t)(T * N * 4)));
    cudnnHandle_t h = vendor ? cudnn_handle() : cudnnHandle_t{};
    return prepared(
        o, [&out, &d_x, T, N, vendor, h] {
          if (vendor) softmax_cudnn(out.as<float>(), d_x.as<const float>(), (int)T, (int)N, h, ctx().stream);
          else softmax(out.as<float>(), d_x.as<const float>(), (int)T, (int)N, ctx().stream);
        },
        {T, N}, &out, false);
  };
}

std::map<std::string, PrepareFn> custom_prepared() {
  std::map<std::string, PrepareFn> m;
  m["embedding"] = prep_embedding;
  m["rmsnorm"] = prep_rmsnorm;
  m["linear"] = prep_linear(LinearAlgo::Auto);
  m["linear.gemv"] = prep_linear(LinearAlgo::Gemv);
  m["linear.mma"] = prep_linear(LinearAlgo::Mma);
  m["rope"] = prep_rope;
  m["attention"] = prep_attention(true);
  m["attention.prefill"] = prep_attention(false);
  m["swiglu"] = prep_swiglu;
  m["add"] = prep_add;
  m["softmax"] = prep_softmax(false);
  return m;
}

std::map<std::string, PrepareFn> cublas_prepared() {
  std::map<std::string, PrepareFn> t;
  for (const auto& [name, fn] : custom_prepared())
    if (name.find('.') == std::string::npos) t[name] = fn;  // goldpath's kernel for the rest
  t["linear"] = prep_linear(LinearAlgo::Cublas);
  t["softmax"] = prep_softmax(true);
  t["attention"] = prep_attention_cudnn(true);
  t["attention.cudnn"] = prep_attention_cudnn(false);
  return t;
}

// an op table entry: prepare, launch once, finish
std::map<std::string, OpFn> run_once(const std::map<std::string, PrepareFn>& prep) {
  std::map<std::string, OpFn> m;
  for (const auto& entry : prep)  // no structured binding: clang 14 cannot capture one
    m[entry.first] = [fn = entry.second](OpArgs& a) {
      PreparedOp p = fn(a);
      p.launch();
      p.finish(a);
    };
  return m;
}

}  // namespace

const std::map<std::string, OpFn>& cuda_ops() {
  static const std::map<std::string, OpFn> m = run_once(cuda_prepared_ops());
  return m;
}

const std::map<std::string, OpFn>& cublas_ops() {
  static const std::map<std::string, OpFn> m = run_once(cublas_prepared_ops());
  return m;
}

const std::map<std::string, PrepareFn>& cuda_prepared_ops() {
  static const std::map<std::string, PrepareFn> m = custom_prepared();
  return m;
}

const std::map<std::string, PrepareFn>& cublas_prepared_ops() {
  static const std::map<std::string, PrepareFn> m = cublas_prepared();
  return m;
}

cudaStream_t op_stream() { return ctx().stream; }

std::string version_op_name(const std::string& entry) { return entry.substr(0, entry.find('.')); }

}  // namespace gp::cuda
