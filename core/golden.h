// golden.h: read-only access to golden HDF5 files (golden/FORMAT.md) through
// HDF5's C++ API. Opening checks format_version; every read checks type and
// shape; HDF5's own error printing is silenced and every failure becomes one
// gp::Error line naming the file and the object.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace H5 {
class H5File;
}

namespace gp {

constexpr int kGoldenFormatVersion = 1;
constexpr const char* kGoldenRegenerate = "bash golden/make_golden.sh";

template <class T>
struct Array {
  std::vector<int64_t> shape;
  std::vector<T> data;
  int64_t numel() const { return (int64_t)data.size(); }
};

class GoldenFile {
 public:
  explicit GoldenFile(const std::string& path);
  ~GoldenFile();
  const std::string& path() const { return path_; }

  bool exists(const std::string& obj) const;                   // group or dataset
  std::vector<std::string> children(const std::string& group) const;  // sorted names
  Array<float> read_f32(const std::string& dataset) const;
  Array<int32_t> read_i32(const std::string& dataset) const;
  Array<uint8_t> read_u8(const std::string& dataset) const;
  Array<int64_t> read_i64(const std::string& dataset) const;  // offsets of ragged datasets
  // golden/FORMAT.md's encodings: strings as <name>_bytes + <name>_offsets,
  // ragged id lists as <name> + <name>_offsets (offsets checked to span the data)
  std::vector<std::string> read_strings(const std::string& name) const;
  std::vector<std::vector<int32_t>> read_ragged_i32(const std::string& name) const;
  // "float", "int" (signed, 32-bit or less), "uint8" or "other"
  std::string dataset_kind(const std::string& dataset) const;
  bool is_group(const std::string& obj) const;

  // attributes of a group or dataset ("/" for the file)
  bool has_attr(const std::string& obj, const std::string& name) const;
  std::string attr_string(const std::string& obj, const std::string& name) const;
  double attr_double(const std::string& obj, const std::string& name) const;
  int64_t attr_int(const std::string& obj, const std::string& name) const;
  std::vector<int64_t> attr_ints(const std::string& obj, const std::string& name) const;
  std::vector<std::string> attr_names(const std::string& obj) const;
  bool attr_is_string(const std::string& obj, const std::string& name) const;

 private:
  std::string path_;
  std::unique_ptr<H5::H5File> file_;
};

// Checks `file` (a path) against the sha256 listed for it in
// <dir of file>/MANIFEST.sha256; throws gp::Error when absent or different.
void check_manifest(const std::string& file);
// Every file the manifest in golden_dir lists (golden files and tiny models)
// against its sha256; returns one line per missing or differing file.
std::vector<std::string> manifest_problems(const std::string& golden_dir);
// Files listed in a manifest that end in .h5, as full paths, sorted.
std::vector<std::string> manifest_golden_files(const std::string& golden_dir);

}  // namespace gp
