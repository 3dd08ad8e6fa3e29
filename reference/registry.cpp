// registry.cpp: reference functions for the op registry (registry.h).
#include "reference/registry.h"

#include "core/error.h"
#include "reference/ops.h"

namespace gp::ref {
namespace {

const std::vector<float>& floats(const HostTensor& h, const char* op, const char* name) {
  GP_CHECK((int64_t)h.f.size() == h.numel(), op, ": operand ", name, " holds ", h.f.size(),
           " floats for shape of ", h.numel());
  return h.f;
}

void set_out(OpArgs& a, std::vector<int64_t> shape) {
  HostTensor& o = a.out();
  o.dtype = DType::F32;
  o.shape = std::move(shape);
  o.f.assign(o.numel(), 0.0f);
}

// weight bytes must be exactly rows x row_bytes(cols)
void check_weight(const HostTensor& w, int64_t rows, int64_t cols, const char* op) {
  GP_CHECK(weight_size(w) == rows * dtype_row_bytes(w.dtype, cols), op, ": weight holds ",
           weight_size(w), " bytes, (", rows, ", ", cols, ") ", dtype_name(w.dtype), " needs ",
           rows * dtype_row_bytes(w.dtype, cols));
}

std::map<std::string, OpFn> build() {
  std::map<std::string, OpFn> m;
  m["embedding"] = [](OpArgs& a) {
    const HostTensor &tab = a.in("table"), &ids = a.in("ids");
    const int64_t V = operand_dim(tab, 0, "embedding", "table"), D = operand_dim(tab, 1, "embedding", "table");
    const int64_t T = operand_dim(ids, 0, "embedding", "ids");
    check_weight(tab, V, D, "embedding");
    GP_CHECK((int64_t)ids.i.size() == T, "embedding: ids are not integers");
    set_out(a, {T, D});
    embedding(a.out().f.data(), tab.dtype, weight_data(tab), ids.i.data(), T, V, D);
  };
  m["rmsnorm"] = [](OpArgs& a) {
    const HostTensor &x = a.in("x"), &w = a.in("weight");
    const int64_t T = operand_dim(x, 0, "rmsnorm", "x"), D = operand_dim(x, 1, "rmsnorm", "x");
    GP_CHECK(w.numel() == D, "rmsnorm: weight has ", w.numel(), " values, x rows have ", D);
    set_out(a, {T, D});
    rmsnorm(a.out().f.data(), floats(x, "rmsnorm", "x").data(), floats(w, "rmsnorm", "weight").data(),
            T, D, a.param("eps"));
  };
  m["linear"] = [](OpArgs& a) {
    const HostTensor &x = a.in("x"), &w = a.in("weight");
    const int64_t T = operand_dim(x, 0, "linear", "x"), K = operand_dim(x, 1, "linear", "x");
    const int64_t N = operand_dim(w, 0, "linear", "weight");
    GP_CHECK(operand_dim(w, 1, "linear", "weight") == K, "linear: weight has ", w.shape[1],
             " columns, x has ", K);
    check_weight(w, N, K, "linear");
    set_out(a, {T, N});
    linear(a.out().f.data(), floats(x, "linear", "x").data(), w.dtype, weight_data(w), T, K, N);
  };
  m["rope"] = [](OpArgs& a) {
    const HostTensor &x = a.in("x"), &pos = a.in("positions");
    const int64_t T = operand_dim(x, 0, "rope", "x"), H = operand_dim(x, 1, "rope", "x"), hd = operand_dim(x, 2, "rope", "x");
    GP_CHECK((int64_t)pos.i.size() == T, "rope: ", pos.i.size(), " positions for ", T, " rows");
    set_out(a, {T, H, hd});
    rope(a.out().f.data(), floats(x, "rope", "x").data(), pos.i.data(), T, H, hd, a.param("theta"));
  };
  m["attention"] = [](OpArgs& a) {
    const HostTensor &q = a.in("q"), &k = a.in("k"), &v = a.in("v");
    const int64_t T = operand_dim(q, 0, "attention", "q"), Hq = operand_dim(q, 1, "attention", "q"),
                  hd = operand_dim(q, 2, "attention", "q");
    const int64_t S = operand_dim(k, 0, "attention", "k"), Hkv = operand_dim(k, 1, "attention", "k");
    GP_CHECK(operand_dim(k, 2, "attention", "k") == hd && v.shape == k.shape,
             "attention: k and v must both be (S, Hkv, ", hd, ")");
    set_out(a, {T, Hq, hd});
    attention(a.out().f.data(), floats(q, "attention", "q").data(), floats(k, "attention", "k").data(),
              floats(v, "attention", "v").data(), T, S, Hq, Hkv, hd, (int64_t)a.param("q_pos0"),
              (int64_t)a.param("sliding_window"));
  };
  m["swiglu"] = [](OpArgs& a) {
    const HostTensor &g = a.in("gate"), &u = a.in("up");
    GP_CHECK(g.shape == u.shape, "swiglu: gate and up differ in shape");
    set_out(a, g.shape);
    swiglu(a.out().f.data(), floats(g, "swiglu", "gate").data(), floats(u, "swiglu", "up").data(),
           g.numel());
  };
  m["add"] = [](OpArgs& a) {
    const HostTensor &x = a.in("a"), &y = a.in("b");
    GP_CHECK(x.shape == y.shape, "add: a and b differ in shape");
    set_out(a, x.shape);
    add(a.out().f.data(), floats(x, "add", "a").data(), floats(y, "add", "b").data(), x.numel());
  };
  m["softmax"] = [](OpArgs& a) {
    const HostTensor& x = a.in("x");
    const int64_t T = operand_dim(x, 0, "softmax", "x"), N = operand_dim(x, 1, "softmax", "x");
    set_out(a, {T, N});
    softmax(a.out().f.data(), floats(x, "softmax", "x").data(), T, N);
  };
  return m;
}

}  // namespace

const std::map<std::string, OpFn>& reference_ops() {
  static const std::map<std::string, OpFn> m = build();
  return m;
}

}  // namespace gp::ref
