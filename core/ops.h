// ops.h: the op registry. Each op of the generation path is registered once
// with its shapes (odd tail shapes and the real shapes of SmolLM2-135M,
// Phi-3-mini and Llama-2-7B), an input generator, its bytes/FLOPs model and
// its tolerance per weight dtype. Implementations (reference/, kernels/) keep
// their own tables of functions keyed by the same op names; tests and
// benchmarks loop over this registry.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/tolerance.h"

namespace gp {

// One named operand. Activations are float32 in `f`; ids and positions in
// `i`; a weight keeps its stored bytes in `raw` with its `dtype`.
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int32_t> i;
  std::vector<uint8_t> raw;
  int64_t numel() const;
};

// Operands by name (inputs, and "out" for the result) and scalar parameters.
struct OpArgs {
  std::map<std::string, HostTensor> t;
  std::map<std::string, double> p;
  const HostTensor& in(const std::string& name) const;  // throws naming the operand
  HostTensor& out();                                     // t["out"]
  double param(const std::string& name) const;          // throws naming the parameter
};

using OpFn = std::function<void(OpArgs&)>;  // reads inputs and params, writes "out"

// Operand helpers for every op table (reference/registry.cpp, kernels/registry.cpp):
// h.shape[d], throwing "<op>: operand <name> has N dimensions" when it has no d;
int64_t operand_dim(const HostTensor& h, size_t d, const char* op, const char* name);
// a weight's stored bytes: `raw`, or the float32 values of a float operand.
const uint8_t* weight_data(const HostTensor& w);
int64_t weight_size(const HostTensor& w);

// Thrown by an op version that cannot run these operands on the device or in
// the build at hand (a vendor library's limits, say); what() says why. Tests
// and verify report it as skipped, benchmarks as not run; any other
// gp::Error is a failure.
struct UnsupportedOp : Error {
  using Error::Error;
};

struct OpShape {
  std::string label;                     // "smollm2-135m/decode", "odd/tail", ...
  std::map<std::string, int64_t> dims;   // named sizes (T, D, K, N, ...)
  DType wtype = DType::F32;              // weight dtype, for ops with a weight
};

struct OpSpec {
  std::string name;       // the op's one name (reference/<name>, kernels/<name>, ...)
  std::string signature;  // operands with shapes, e.g. "x (T,D), weight (D) -> out (T,D)"
  std::vector<OpShape> shapes;
  // fills args with seeded random inputs (never all zeros) for a shape
  std::function<void(const OpShape&, uint64_t seed, OpArgs&)> make_inputs;
  std::function<double(const OpShape&)> bytes;  // bytes an implementation must move
  std::function<double(const OpShape&)> flops;  // floating-point operations
  // tolerance by the activation storage type of the implementation under test
  std::map<DType, Tolerance> tolerance = {{DType::F32, kReferenceVsGolden},
                                          {DType::F16, kHalfStorageVsReference}};
};

const std::vector<OpSpec>& op_registry();
const OpSpec* find_op(const std::string& name);  // nullptr when unknown

}  // namespace gp
