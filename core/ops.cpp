// ops.cpp: the op registry (ops.h): shapes, input generators, cost models.
#include "core/ops.h"

#include <cmath>
#include <random>

#include "core/error.h"
#include "core/quant.h"

namespace gp {

int64_t operand_dim(const HostTensor& h, size_t d, const char* op, const char* name) {
  GP_CHECK(d < h.shape.size(), op, ": operand ", name, " has ", h.shape.size(),
           " dimensions, expected at least ", d + 1);
  return h.shape[d];
}

const uint8_t* weight_data(const HostTensor& w) {
  if (w.raw.empty() && w.dtype == DType::F32) return reinterpret_cast<const uint8_t*>(w.f.data());
  return w.raw.data();
}
int64_t weight_size(const HostTensor& w) {
  if (w.raw.empty() && w.dtype == DType::F32) return (int64_t)w.f.size() * 4;
  return (int64_t)w.raw.size();
}

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const HostTensor& OpArgs::in(const std::string& name) const {
  auto it = t.find(name);
  GP_CHECK(it != t.end(), "op operand '", name, "' is missing");
  return it->second;
}

HostTensor& OpArgs::out() { return t["out"]; }

double OpArgs::param(const std::string& name) const {
  auto it = p.find(name);
  GP_CHECK(it != p.end(), "op parameter '", name, "' is missing");
  return it->second;
}

namespace {

using Dims = std::map<std::string, int64_t>;

int64_t dim(const OpShape& s, const char* k) {
  auto it = s.dims.find(k);
  GP_CHECK(it != s.dims.end(), "op shape '", s.label, "' has no dimension ", k);
  return it->second;
}

HostTensor rand_f32(std::mt19937_64& g, std::vector<int64_t> shape, float lo, float hi) {
  HostTensor h;
  h.shape = std::move(shape);
  std::uniform_real_distribution<float> u(lo, hi);
  h.f.resize(h.numel());
  for (float& v : h.f) v = u(g);
  return h;
}

// Random weight rows (N, K) stored as `t`: valid blocks with f16 scales of
// the size real checkpoints have.
HostTensor rand_weight(std::mt19937_64& g, DType t, int64_t N, int64_t K) {
  HostTensor h;
  h.dtype = t;
  h.shape = {N, K};
  const int64_t rb = dtype_row_bytes(t, K);
  h.raw.resize(N * rb);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  std::uniform_int_distribution<int> byte(0, 255);
  const int64_t nb = K / kQK;
  for (int64_t r = 0; r < N; r++) {
    uint8_t* row = h.raw.data() + r * rb;
    switch (t) {
      case DType::F32:
        for (int64_t k = 0; k < K; k++) reinterpret_cast<float*>(row)[k] = u(g);
        break;
      case DType::F16:
        for (int64_t k = 0; k < K; k++) reinterpret_cast<uint16_t*>(row)[k] = f32_to_f16(u(g));
        break;
      case DType::BF16:
        for (int64_t k = 0; k < K; k++) reinterpret_cast<uint16_t*>(row)[k] = f32_to_bf16(u(g));
        break;
      case DType::Q8_0:
        for (int64_t b = 0; b < nb; b++) {
          auto* blk = reinterpret_cast<block_q8_0*>(row) + b;
          blk->d = f32_to_f16(std::fabs(u(g)) / 127.0f + 1e-4f);
          for (int j = 0; j < kQK; j++) blk->qs[j] = (int8_t)(byte(g) - 128);
        }
        break;
      case DType::Q4_0:
        for (int64_t b = 0; b < nb; b++) {
          auto* blk = reinterpret_cast<block_q4_0*>(row) + b;
          blk->d = f32_to_f16(std::fabs(u(g)) / 8.0f + 1e-4f);
          for (int j = 0; j < kQK / 2; j++) blk->qs[j] = (uint8_t)byte(g);
        }
        break;
      case DType::Q4_1:
        for (int64_t b = 0; b < nb; b++) {
          auto* blk = reinterpret_cast<block_q4_1*>(row) + b;
          blk->d = f32_to_f16(std::fabs(u(g)) / 16.0f + 1e-4f);
          blk->m = f32_to_f16(-8.0f * f16_to_f32(blk->d) + u(g) * 0.1f);
          for (int j = 0; j < kQK / 2; j++) blk->qs[j] = (uint8_t)byte(g);
        }
        break;
    }
  }
  return h;
}

HostTensor rand_ids(std::mt19937_64& g, int64_t n, int64_t vocab) {
  HostTensor h;
  h.shape = {n};
  std::uniform_int_distribution<int64_t> u(0, vocab - 1);
  for (int64_t i = 0; i < n; i++) h.i.push_back((int32_t)u(g));
  return h;
}

// model shapes the registry covers
struct RealModel {
  const char* name;
  int64_t D, Hq, Hkv, hd, F, V;
};
const RealModel kModels[] = {
    {"smollm2-135m", 576, 9, 3, 64, 1536, 49152},
    {"phi-3-mini", 3072, 32, 32, 96, 8192, 32064},
    {"llama-2-7b", 4096, 32, 32, 128, 11008, 32000},
};
const DType kWeightTypes[] = {DType::F32, DType::F16,  DType::BF16,
                              DType::Q8_0, DType::Q4_0, DType::Q4_1};

std::vector<OpSpec> build() {
  std::vector<OpSpec> ops;

  {  // embedding
    OpSpec s;
    s.name = "embedding";
    s.signature = "table (V,D) any dtype, ids (T) -> out (T,D)";
    for (DType t : kWeightTypes) s.shapes.push_back({"odd/tail", Dims{{"V", 37}, {"D", 96}, {"T", 5}}, t});
    for (auto& m : kModels)
      s.shapes.push_back({std::string(m.name) + "/prefill", Dims{{"V", m.V}, {"D", m.D}, {"T", 512}}, DType::Q4_1});
    s.make_inputs = [](const OpShape& sh, uint64_t seed, OpArgs& a) {
      std::mt19937_64 g(seed);
      a.t["table"] = rand_weight(g, sh.wtype, dim(sh, "V"), dim(sh, "D"));
      a.t["ids"] = rand_ids(g, dim(sh, "T"), dim(sh, "V"));
    };
    s.bytes = [](const OpShape& sh) {
      return (double)dim(sh, "T") * (dtype_row_bytes(sh.wtype, dim(sh, "D")) + 4 * dim(sh, "D") + 4);
    };
    s.flops = [](const OpShape&) { return 0.0; };
    ops.push_back(s);
  }
  {  // rmsnorm
    OpSpec s;
    s.name = "rmsnorm";
    s.signature = "x (T,D), weight (D), eps -> out (T,D)";
    s.shapes.push_back({"odd/tail", Dims{{"T", 5}, {"D", 67}}});
    for (auto& m : kModels) {
      s.shapes.push_back({std::string(m.name) + "/decode", Dims{{"T", 1}, {"D", m.D}}});
      s.shapes.push_back({std::string(m.name) + "/prefill", Dims{{"T", 512}, {"D", m.D}}});
    }
    s.make_inputs = [](const OpShape& sh, uint64_t seed, OpArgs& a) {
      std::mt19937_64 g(seed);
      a.t["x"] = rand_f32(g, {dim(sh, "T"), dim(sh, "D")}, -2, 2);
      a.t["weight"] = rand_f32(g, {dim(sh, "D")}, 0.5f, 1.5f);
      a.p["eps"] = 1e-5;
    };
    s.bytes = [](const OpShape& sh) { return 4.0 * (2 * dim(sh, "T") + 1) * dim(sh, "D"); };
    s.flops = [](const OpShape& sh) { return 4.0 * dim(sh, "T") * dim(sh, "D"); };
    ops.push_back(s);
  }
  {  // linear
    OpSpec s;
    s.name = "linear";
    s.signature = "x (T,K), weight (N,K) any dtype -> out (T,N)";
    for (DType t : kWeightTypes) {
      s.shapes.push_back({"odd/tail", Dims{{"T", 5}, {"K", 96}, {"N", 37}}, t});
      s.shapes.push_back({"odd/decode", Dims{{"T", 1}, {"K", 160}, {"N", 33}}, t});
    }
    for (auto& m : kModels)
      for (DType t : {DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1}) {
        const std::string n = m.name;
        s.shapes.push_back({n + "/decode/qkv", Dims{{"T", 1}, {"K", m.D}, {"N", (m.Hq + 2 * m.Hkv) * m.hd}}, t});
        s.shapes.push_back({n + "/decode/down", Dims{{"T", 1}, {"K", m.F}, {"N", m.D}}, t});
        s.shapes.push_back({n + "/prefill/up", Dims{{"T", 512}, {"K", m.D}, {"N", m.F}}, t});
        s.shapes.push_back({n + "/decode/lm_head", Dims{{"T", 1}, {"K", m.D}, {"N", m.V}}, t});
      }
    s.make_inputs = [](const OpShape& sh, uint64_t seed, OpArgs& a) {
      std::mt19937_64 g(seed);
      a.t["x"] = rand_f32(g, {dim(sh, "T"), dim(sh, "K")}, -1, 1);
      a.t["weight"] = rand_weight(g, sh.wtype, dim(sh, "N"), dim(sh, "K"));
    };
    s.bytes = [](const OpShape& sh) {
      const double T = dim(sh, "T"), K = dim(sh, "K"), N = dim(sh, "N");
      return N * dtype_row_bytes(sh.wtype, (int64_t)K) + 4 * T * (K + N);
    };
    s.flops = [](const OpShape& sh) { return 2.0 * dim(sh, "T") * dim(sh, "K") * dim(sh, "N"); };
    ops.push_back(s);
  }
  {  // rope
    OpSpec s;
    s.name = "rope";
    s.signature = "x (T,H,hd), positions (T), theta -> out (T,H,hd), rotate-half";
    s.shapes.push_back({"odd/tail", Dims{{"T", 5}, {"H", 3}, {"hd", 24}}});
    for (auto& m : kModels) s.shapes.push_back({std::string(m.name) + "/prefill", Dims{{"T", 512}, {"H", m.Hq}, {"hd", m.hd}}});
    s.make_inputs = [](const OpShape& sh, uint64_t seed, OpArgs& a) {
      std::mt19937_64 g(seed);
      const int64_t T = dim(sh, "T");
      a.t["x"] = rand_f32(g, {T, dim(sh, "H"), dim(sh, "hd")}, -1, 1);
      HostTensor pos;
      pos.shape = {T};
      for (int64_t t = 0; t < T; t++) pos.i.push_back((int32_t)(7 + 3 * t));  // not 0..T-1
      a.t["positions"] = pos;
      a.p["theta"] = 10000.0;
    };
    s.bytes = [](const OpShape& sh) { return 8.0 * dim(sh, "T") * dim(sh, "H") * dim(sh, "hd"); };
    s.flops = [](const OpShape& sh) { return 3.0 * dim(sh, "T") * dim(sh, "H") * dim(sh, "hd"); };
    ops.push_back(s);
  }
  {  // attention
    OpSpec s;
    s.name = "attention";
    s.signature = "q (T,Hq,hd), k (S,Hkv,hd), v (S,Hkv,hd), q_pos0, sliding_window -> out (T,Hq,hd)";
    s.shapes.push_back({"odd/prefill", Dims{{"T", 7}, {"S", 7}, {"Hq", 4}, {"Hkv", 2}, {"hd", 24}, {"window", 0}}});
    s.shapes.push_back({"odd/decode", Dims{{"T", 1}, {"S", 13}, {"Hq", 4}, {"Hkv", 2}, {"hd", 24}, {"window", 0}}});
    s.shapes.push_back({"odd/window", Dims{{"T", 9}, {"S", 9}, {"Hq", 4}, {"Hkv", 4}, {"hd", 16}, {"window", 4}}});
    for (auto& m : kModels) {
      const std::string n = m.name;
      s.shapes.push_back({n + "/prefill", Dims{{"T", 512}, {"S", 512}, {"Hq", m.Hq}, {"Hkv", m.Hkv}, {"hd", m.hd}, {"window", 0}}});
      s.shapes.push_back({n + "/decode-2048", Dims{{"T", 1}, {"S", 2049}, {"Hq", m.Hq}, {"Hkv", m.Hkv}, {"hd", m.hd}, {"window", 0}}});
    }
    s.make_inputs = [](const OpShape& sh, uint64_t seed, OpArgs& a) {
      std::mt19937_64 g(seed);
      const int64_t T = dim(sh, "T"), S = dim(sh, "S"), hd = dim(sh, "hd");
      a.t["q"] = rand_f32(g, {T, dim(sh, "Hq"), hd}, -1, 1);
      a.t["k"] = rand_f32(g, {S, dim(sh, "Hkv"), hd}, -1, 1);
      a.t["v"] = rand_f32(g, {S, dim(sh, "Hkv"), hd}, -1, 1);
      a.p["q_pos0"] = (double)(S - T);
      a.p["sliding_window"] = (double)dim(sh, "window");
    };
    s.bytes = [](const OpShape& sh) {
      const double T = dim(sh, "T"), S = dim(sh, "S"), hd = dim(sh, "hd");
      return 4.0 * hd * (2 * T * dim(sh, "Hq") + 2 * S * dim(sh, "Hkv"));
    };
    s.flops = [](const OpShape& sh) {
      // causal: query t sees q_pos0 + t + 1 keys
      const double T = dim(sh, "T"), S = dim(sh, "S");
      const double seen = T * (S - T) + T * (T + 1) / 2;
      return 4.0 * seen * dim(sh, "Hq") * dim(sh, "hd");
    };
    ops.push_back(s);
  }
  {  // swiglu
    OpSpec s;
    s.name = "swiglu";
    s.signature = "gate (T,F), up (T,F) -> out (T,F) = silu(gate) * up";
    s.shapes.push_back({"odd/tail", Dims{{"T", 5}, {"F", 67}}});
    for (auto& m : kModels) s.shapes.push_back({std::string(m.name) + "/decode", Dims{{"T", 1}, {"F", m.F}}});
    s.make_inputs = [](const OpShape& sh, uint64_t seed, OpArgs& a) {
      std::mt19937_64 g(seed);
      a.t["gate"] = rand_f32(g, {dim(sh, "T"), dim(sh, "F")}, -4, 4);
      a.t["up"] = rand_f32(g, {dim(sh, "T"), dim(sh, "F")}, -2, 2);
    };
    s.bytes = [](const OpShape& sh) { return 12.0 * dim(sh, "T") * dim(sh, "F"); };
    s.flops = [](const OpShape& sh) { return 5.0 * dim(sh, "T") * dim(sh, "F"); };
    ops.push_back(s);
  }
  {  // add (residual)
    OpSpec s;
    s.name = "add";
    s.signature = "a (T,D), b (T,D) -> out (T,D)";
    s.shapes.push_back({"odd/tail", Dims{{"T", 5}, {"D", 67}}});
    for (auto& m : kModels) s.shapes.push_back({std::string(m.name) + "/decode", Dims{{"T", 1}, {"D", m.D}}});
    s.make_inputs = [](const OpShape& sh, uint64_t seed, OpArgs& a) {
      std::mt19937_64 g(seed);
      a.t["a"] = rand_f32(g, {dim(sh, "T"), dim(sh, "D")}, -2, 2);
      a.t["b"] = rand_f32(g, {dim(sh, "T"), dim(sh, "D")}, -2, 2);
    };
    s.bytes = [](const OpShape& sh) { return 12.0 * dim(sh, "T") * dim(sh, "D"); };
    s.flops = [](const OpShape& sh) { return 1.0 * dim(sh, "T") * dim(sh, "D"); };
    ops.push_back(s);
  }
  {  // softmax
    OpSpec s;
    s.name = "softmax";
    s.signature = "x (T,N) -> out (T,N), over the last axis";
    s.shapes.push_back({"odd/tail", Dims{{"T", 5}, {"N", 67}}});
    for (auto& m : kModels) s.shapes.push_back({std::string(m.name) + "/vocab", Dims{{"T", 1}, {"N", m.V}}});
    s.make_inputs = [](const OpShape& sh, uint64_t seed, OpArgs& a) {
      std::mt19937_64 g(seed);
      a.t["x"] = rand_f32(g, {dim(sh, "T"), dim(sh, "N")}, -8, 8);
    };
    s.bytes = [](const OpShape& sh) { return 8.0 * dim(sh, "T") * dim(sh, "N"); };
    s.flops = [](const OpShape& sh) { return 4.0 * dim(sh, "T") * dim(sh, "N"); };
    ops.push_back(s);
  }
  return ops;
}

}  // namespace

const std::vector<OpSpec>& op_registry() {
  static const std::vector<OpSpec> ops = build();
  return ops;
}

const OpSpec* find_op(const std::string& name) {
  for (const auto& o : op_registry())
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace gp
