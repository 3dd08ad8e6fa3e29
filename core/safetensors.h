// safetensors.h: safetensors reader (8-byte header length, JSON header parsed
// with nlohmann-json, data memory-mapped) and the sharded index
// (model.safetensors.index.json). Offsets, shapes and dtypes are checked
// against the file before use.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace gp {

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::F32;  // F32, F16 or BF16 (others rejected with the tensor's name)
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  int64_t nbytes = 0;
  std::shared_ptr<MappedFile> file;
};

// All tensors of a HF model directory: model.safetensors, or the shards
// listed by model.safetensors.index.json. Throws gp::Error naming the file.
std::map<std::string, SafetensorsTensor> load_safetensors_dir(const std::string& dir);
// One safetensors file.
std::map<std::string, SafetensorsTensor> load_safetensors_file(const std::string& path);

}  // namespace gp
