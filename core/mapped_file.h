// mapped_file.h: a read-only memory-mapped file (RAII) with bounds-checked
// access, so every offset and size read from a file is checked before use.
#pragma once
#include <cstdint>
#include <string>

namespace gp {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws gp::Error naming path
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  int64_t size() const { return size_; }
  // true when [offset, offset+len) lies inside the file (no overflow)
  bool contains(int64_t offset, int64_t len) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace gp
