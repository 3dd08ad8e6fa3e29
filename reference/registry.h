// registry.h: the reference implementation of every registered op
// (core/ops.h), keyed by op name, adapting named operands to reference/ops.h.
#pragma once
#include <map>
#include <string>

#include "core/ops.h"

namespace gp::ref {

const std::map<std::string, OpFn>& reference_ops();

}  // namespace gp::ref
