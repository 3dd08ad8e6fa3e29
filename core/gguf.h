// gguf.h: GGUF v3 reader (header, typed metadata, tensor table, aligned data
// section), memory-mapped. Every count, length, offset and dimension is checked
// against the file size and for overflow before use; a malformed file throws
// gp::Error("<path>: <problem>").
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace gp {

enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12
};

struct GgufValue {
  GgufType type = GgufType::U8;
  GgufType elem_type = GgufType::U8;  // for ARRAY
  // scalars: integer types in i (u64 values that do not fit in int64 rejected), floats in f, bool in i
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ai;  // integer/bool arrays
  std::vector<double> af;   // float arrays
  std::vector<std::string> as;  // string arrays
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // GGUF order: ne[0] is the contiguous dimension
  uint32_t ggml_type = 0;
  DType dtype = DType::F32;
  uint64_t offset = 0;      // relative to the data section
  int64_t nbytes = 0;
  const uint8_t* data = nullptr;
};

// A token id key holding llama.cpp's "no such token" (LLAMA_TOKEN_NULL: -1,
// written as 0xFFFFFFFF in a uint32 key, as llama.cpp's llama2.c converter does
// for padding and separator ids): the id is absent, not out of range.
inline bool gguf_no_token(int64_t v) { return v == -1 || v == 0xFFFFFFFFll; }

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);  // parses and checks everything
  const std::string& path() const { return file_->path(); }
  std::shared_ptr<MappedFile> file() const { return file_; }
  uint32_t version() const { return version_; }

  bool has(const std::string& key) const { return kv_.count(key) != 0; }
  const GgufValue& get(const std::string& key) const;  // throws naming the key
  // typed getters: throw gp::Error naming the key when missing or of another type
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;  // accepts integer or float types
  std::string get_string(const std::string& key) const;
  int64_t get_int_or(const std::string& key, int64_t dflt) const;
  double get_float_or(const std::string& key, double dflt) const;
  const std::map<std::string, GgufValue>& metadata() const { return kv_; }

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find(const std::string& name) const;  // nullptr when absent

 private:
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> index_;
};

}  // namespace gp
