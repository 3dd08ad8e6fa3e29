// golden.cpp: golden HDF5 reader (golden.h) on HDF5's C++ API.
#include "core/golden.h"

#include <H5Cpp.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/memory.h"
#include "core/sha256.h"

namespace gp {
namespace {

// More elements than this in one golden dataset means a corrupt file.
constexpr int64_t kMaxGoldenElems = int64_t(1) << 28;

std::string base_name(const std::string& p) {
  auto s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}
std::string dir_name(const std::string& p) {
  auto s = p.find_last_of('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}

struct Quiet {
  Quiet() { H5::Exception::dontPrint(); }
};

std::string h5_msg(const H5::Exception& e) {
  std::string m = e.getDetailMsg();
  std::replace(m.begin(), m.end(), '\n', ' ');
  return m;
}

}  // namespace

GoldenFile::GoldenFile(const std::string& path) : path_(path) {
  static Quiet quiet;
  std::ifstream probe(path, std::ios::binary);
  GP_CHECK(probe.good(), path, ": cannot open golden file");
  probe.close();
  GP_CHECK(H5::H5File::isHdf5(path.c_str()) > 0, path, ": not an HDF5 file");
  try {
    file_ = std::make_unique<H5::H5File>(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    fail(path, ": cannot read HDF5 file (", h5_msg(e), ")");
  }
  GP_CHECK(has_attr("/", "format_version"), path,
           ": no format_version attribute; not a goldpath golden file (regenerate with ",
           kGoldenRegenerate, ")");
  const int64_t v = attr_int("/", "format_version");
  GP_CHECK(v == kGoldenFormatVersion, path, ": golden format version ", v, ", this build reads ",
           kGoldenFormatVersion, "; regenerate with ", kGoldenRegenerate);
}

GoldenFile::~GoldenFile() = default;

bool GoldenFile::exists(const std::string& obj) const {
  if (obj == "/" || obj.empty()) return true;
  // check each component so a missing parent is not an HDF5 error
  std::string cur;
  std::stringstream ss(obj);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    htri_t e = H5Lexists(file_->getId(), cur.c_str(), H5P_DEFAULT);
    if (e <= 0) return false;
  }
  return true;
}

std::vector<std::string> GoldenFile::children(const std::string& group) const {
  GP_CHECK(exists(group), path_, ": missing group ", group);
  std::vector<std::string> out;
  try {
    H5::Group g = file_->openGroup(group);
    const hsize_t n = g.getNumObjs();
    GP_CHECK(n < 1000000, path_, ": group ", group, " claims ", n, " members");
    for (hsize_t i = 0; i < n; i++) out.push_back(g.getObjnameByIdx(i));
  } catch (const H5::Exception& e) {
    fail(path_, ": cannot list group ", group, " (", h5_msg(e), ")");
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

template <class T>
Array<T> read_array(const H5::H5File& f, const std::string& path, const std::string& ds_name,
                    const H5::PredType& mem, H5T_class_t want_class, const char* what) {
  Array<T> a;
  try {
    H5::DataSet ds = f.openDataSet(ds_name);
    GP_CHECK(ds.getTypeClass() == want_class, path, ": dataset ", ds_name, " is not ", what);
    H5::DataSpace sp = ds.getSpace();
    const int nd = sp.getSimpleExtentNdims();
    GP_CHECK(nd >= 0 && nd <= 8, path, ": dataset ", ds_name, " has ", nd, " dimensions");
    std::vector<hsize_t> dims(nd);
    if (nd) sp.getSimpleExtentDims(dims.data());
    int64_t n = 1;
    for (hsize_t d : dims) {
      GP_CHECK(d <= (hsize_t)kMaxGoldenElems && n <= kMaxGoldenElems / std::max<int64_t>(1, d),
               path, ": dataset ", ds_name, " is too large");
      n *= (int64_t)d;
      a.shape.push_back((int64_t)d);
    }
    GP_CHECK(n <= kMaxGoldenElems, path, ": dataset ", ds_name, " is too large");
    check_host_alloc(n, (int64_t)sizeof(T), str(path, ": dataset ", ds_name));
    a.data.resize(n);
    if (n) ds.read(a.data.data(), mem);
  } catch (const H5::Exception& e) {
    fail(path, ": cannot read dataset ", ds_name, " (", h5_msg(e), ")");
  }
  return a;
}

}  // namespace

Array<float> GoldenFile::read_f32(const std::string& ds) const {
  GP_CHECK(exists(ds), path_, ": missing dataset ", ds);
  return read_array<float>(*file_, path_, ds, H5::PredType::NATIVE_FLOAT, H5T_FLOAT, "float");
}
Array<int32_t> GoldenFile::read_i32(const std::string& ds) const {
  GP_CHECK(exists(ds), path_, ": missing dataset ", ds);
  return read_array<int32_t>(*file_, path_, ds, H5::PredType::NATIVE_INT32, H5T_INTEGER,
                             "integer");
}
Array<uint8_t> GoldenFile::read_u8(const std::string& ds) const {
  GP_CHECK(exists(ds), path_, ": missing dataset ", ds);
  return read_array<uint8_t>(*file_, path_, ds, H5::PredType::NATIVE_UINT8, H5T_INTEGER,
                             "integer");
}
Array<int64_t> GoldenFile::read_i64(const std::string& ds) const {
  GP_CHECK(exists(ds), path_, ": missing dataset ", ds);
  return read_array<int64_t>(*file_, path_, ds, H5::PredType::NATIVE_INT64, H5T_INTEGER,
                             "integer");
}

namespace {

// Runs fn(H5::H5Object&) on the group or dataset at obj.
template <class F>
auto with_object(const H5::H5File& f, const std::string& obj, F fn) {
  if (obj == "/" || obj.empty()) {
    H5::Group g = f.openGroup("/");
    return fn(static_cast<H5::H5Object&>(g));
  }
  H5O_info_t info;
  if (H5Oget_info_by_name(f.getId(), obj.c_str(), &info, H5P_DEFAULT) < 0)
    throw H5::Exception("H5Oget_info_by_name", "no such object");
  if (info.type == H5O_TYPE_DATASET) {
    H5::DataSet d = f.openDataSet(obj);
    return fn(static_cast<H5::H5Object&>(d));
  }
  H5::Group g = f.openGroup(obj);
  return fn(static_cast<H5::H5Object&>(g));
}

}  // namespace

bool GoldenFile::has_attr(const std::string& obj, const std::string& name) const {
  if (!exists(obj)) return false;
  try {
    return with_object(*file_, obj, [&](H5::H5Object& o) { return o.attrExists(name); });
  } catch (const H5::Exception& e) {
    return false;
  }
}

std::string GoldenFile::attr_string(const std::string& obj, const std::string& name) const {
  GP_CHECK(has_attr(obj, name), path_, ": ", obj, " has no attribute ", name);
  try {
    return with_object(*file_, obj, [&](H5::H5Object& o) {
      H5::Attribute a = o.openAttribute(name);
      GP_CHECK(a.getTypeClass() == H5T_STRING, path_, ": attribute ", obj, "@", name,
               " is not a string");
      // one string: for a variable-length one HDF5 writes a pointer per element into the buffer
      GP_CHECK(a.getSpace().getSimpleExtentNpoints() == 1, path_, ": attribute ", obj, "@", name,
               " is not a single string");
      const H5::StrType type = a.getStrType();
      std::string s;
      if (!type.isVariableStr()) {
        a.read(type, s);
        return s;
      }
      // through the C API: a null variable-length string is "" (the C++ API's read calls strlen on it)
      char* p = nullptr;
      if (H5Aread(a.getId(), type.getId(), &p) < 0) throw H5::AttributeIException("attr_string", "H5Aread failed");
      if (p) s = p;
      H5free_memory(p);
      return s;
    });
  } catch (const H5::Exception& e) {
    fail(path_, ": cannot read attribute ", obj, "@", name, " (", h5_msg(e), ")");
  }
}

std::vector<int64_t> GoldenFile::attr_ints(const std::string& obj, const std::string& name) const {
  GP_CHECK(has_attr(obj, name), path_, ": ", obj, " has no attribute ", name);
  try {
    return with_object(*file_, obj, [&](H5::H5Object& o) {
      H5::Attribute a = o.openAttribute(name);
      GP_CHECK(a.getTypeClass() == H5T_INTEGER || a.getTypeClass() == H5T_ENUM, path_,
               ": attribute ", obj, "@", name, " is not an integer");
      const hssize_t n = a.getSpace().getSimpleExtentNpoints();
      GP_CHECK(n >= 0 && n < 1000000, path_, ": attribute ", obj, "@", name, " is too large");
      std::vector<int64_t> v(n);
      if (n) a.read(H5::PredType::NATIVE_INT64, v.data());
      return v;
    });
  } catch (const H5::Exception& e) {
    fail(path_, ": cannot read attribute ", obj, "@", name, " (", h5_msg(e), ")");
  }
}

int64_t GoldenFile::attr_int(const std::string& obj, const std::string& name) const {
  auto v = attr_ints(obj, name);
  GP_CHECK(v.size() == 1, path_, ": attribute ", obj, "@", name, " is not a scalar");
  return v[0];
}

double GoldenFile::attr_double(const std::string& obj, const std::string& name) const {
  GP_CHECK(has_attr(obj, name), path_, ": ", obj, " has no attribute ", name);
  try {
    return with_object(*file_, obj, [&](H5::H5Object& o) {
      H5::Attribute a = o.openAttribute(name);
      const auto c = a.getTypeClass();
      GP_CHECK(c == H5T_FLOAT || c == H5T_INTEGER, path_, ": attribute ", obj, "@", name,
               " is not a number");
      GP_CHECK(a.getSpace().getSimpleExtentNpoints() == 1, path_, ": attribute ", obj, "@", name,
               " is not a scalar");
      double v = 0;
      a.read(H5::PredType::NATIVE_DOUBLE, &v);
      return v;
    });
  } catch (const H5::Exception& e) {
    fail(path_, ": cannot read attribute ", obj, "@", name, " (", h5_msg(e), ")");
  }
}

std::string GoldenFile::dataset_kind(const std::string& ds) const {
  GP_CHECK(exists(ds), path_, ": missing dataset ", ds);
  try {
    H5::DataSet d = file_->openDataSet(ds);
    const H5T_class_t c = d.getTypeClass();
    if (c == H5T_FLOAT) return "float";
    if (c == H5T_INTEGER) {
      H5::IntType it = d.getIntType();
      const size_t size = it.getSize();
      const bool is_signed = it.getSign() != H5T_SGN_NONE;
      if (!is_signed && size == 1) return "uint8";
      if (is_signed && size <= 4) return "int";
    }
    return "other";
  } catch (const H5::Exception& e) {
    fail(path_, ": cannot open dataset ", ds, " (", h5_msg(e), ")");
  }
}

namespace {

template <class T>
std::vector<std::vector<T>> split_ragged(const std::string& path, const std::string& name, const std::vector<T>& data,
                                         const std::vector<int64_t>& off) {
  GP_CHECK(!off.empty() && off.front() == 0 && off.back() == (int64_t)data.size(), path, ": ", name,
           "_offsets do not span ", name);
  std::vector<std::vector<T>> out;
  for (size_t k = 0; k + 1 < off.size(); ++k) {
    GP_CHECK(off[k] <= off[k + 1], path, ": ", name, "_offsets decrease at ", k);
    GP_CHECK(off[k + 1] <= (int64_t)data.size(), path, ": ", name, "_offsets run past the end of ", name, " at ", k + 1);
    out.emplace_back(data.begin() + off[k], data.begin() + off[k + 1]);
  }
  return out;
}

}  // namespace

std::vector<std::string> GoldenFile::read_strings(const std::string& name) const {
  const auto parts = split_ragged(path_, name, read_u8(name + "_bytes").data, read_i64(name + "_offsets").data);
  std::vector<std::string> out;
  for (const auto& p : parts) out.emplace_back(p.begin(), p.end());
  return out;
}

std::vector<std::vector<int32_t>> GoldenFile::read_ragged_i32(const std::string& name) const {
  return split_ragged(path_, name, read_i32(name).data, read_i64(name + "_offsets").data);
}

bool GoldenFile::is_group(const std::string& obj) const {
  if (obj == "/" || obj.empty()) return true;
  if (!exists(obj)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name(file_->getId(), obj.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_GROUP;
}

std::vector<std::string> GoldenFile::attr_names(const std::string& obj) const {
  GP_CHECK(exists(obj), path_, ": missing object ", obj);
  try {
    return with_object(*file_, obj, [&](H5::H5Object& o) {
      std::vector<std::string> names;
      const int n = o.getNumAttrs();
      for (int i = 0; i < n; i++) names.push_back(o.openAttribute((unsigned)i).getName());
      std::sort(names.begin(), names.end());
      return names;
    });
  } catch (const H5::Exception& e) {
    fail(path_, ": cannot list attributes of ", obj, " (", h5_msg(e), ")");
  }
}

bool GoldenFile::attr_is_string(const std::string& obj, const std::string& name) const {
  GP_CHECK(has_attr(obj, name), path_, ": ", obj, " has no attribute ", name);
  try {
    return with_object(*file_, obj, [&](H5::H5Object& o) {
      return o.openAttribute(name).getTypeClass() == H5T_STRING;
    });
  } catch (const H5::Exception& e) {
    fail(path_, ": cannot read attribute ", obj, "@", name, " (", h5_msg(e), ")");
  }
}

namespace {

std::vector<std::pair<std::string, std::string>> read_manifest(const std::string& dir) {
  const std::string mpath = dir + "/MANIFEST.sha256";
  std::ifstream in(mpath);
  GP_CHECK(in.good(), mpath, ": cannot open golden manifest");
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    lineno++;
    if (line.empty()) continue;
    auto sp = line.find("  ");
    GP_CHECK(sp == 64 && line.size() > 66, mpath, ":", lineno,
             ": expected '<sha256>  <path>'");
    const std::string rel = line.substr(66);
    // a path inside the manifest's folder: hashing one outside it (/dev/zero) may never end
    GP_CHECK(rel[0] != '/' && rel != ".." && rel.compare(0, 3, "../") != 0 && rel.find("/../") == std::string::npos &&
                 (rel.size() < 3 || rel.compare(rel.size() - 3, 3, "/..") != 0),
             mpath, ":", lineno, ": path ", rel, " leaves the manifest's folder");
    out.emplace_back(rel, line.substr(0, 64));
  }
  return out;
}

}  // namespace

void check_manifest(const std::string& file) {
  const std::string dir = dir_name(file);
  const std::string name = base_name(file);
  std::vector<std::pair<std::string, std::string>> entries;
  try {
    entries = read_manifest(dir);
  } catch (const Error& e) {
    fail(file, ": cannot be checked against its manifest: ", e.what());
  }
  for (const auto& [rel, sha] : entries) {
    if (rel != name) continue;
    const std::string got = sha256_file(file);
    GP_CHECK(got == sha, file, ": sha256 ", got.substr(0, 12), "... differs from ", dir,
             "/MANIFEST.sha256 (", sha.substr(0, 12), "...); restore it or regenerate with ",
             kGoldenRegenerate);
    return;
  }
  fail(file, ": not listed in ", dir, "/MANIFEST.sha256");
}

std::vector<std::string> manifest_problems(const std::string& golden_dir) {
  std::vector<std::string> out;
  for (const auto& [rel, sha] : read_manifest(golden_dir)) {
    const std::string p = golden_dir + "/" + rel;
    try {
      const std::string got = sha256_file(p);
      if (got != sha) out.push_back(str(p, ": sha256 ", got, " differs from the manifest's ", sha));
    } catch (const Error& e) {
      out.push_back(e.what());
    }
  }
  return out;
}

std::vector<std::string> manifest_golden_files(const std::string& golden_dir) {
  std::vector<std::string> out;
  for (const auto& [rel, sha] : read_manifest(golden_dir))
    if (rel.size() > 3 && rel.compare(rel.size() - 3, 3, ".h5") == 0)
      out.push_back(golden_dir + "/" + rel);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace gp
