// golden_fuzz.cpp: libFuzzer target for the golden HDF5 reader
// (core/golden.h). The input is an .h5 file. GoldenFile must open it or throw
// gp::Error; when it opens, every group it lists is walked (to a bounded
// depth and count: HDF5 links can form cycles), every attribute is read as
// what it says it is, every dataset is read as each type, and datasets named
// like golden/FORMAT.md's ragged encodings are read as strings and id lists.
// libhdf5 (1.10.8, Debian 12) itself crashes on some corrupt files within
// seconds of fuzzing; examples are in tests/fuzz/hdf5_crashes/ (named after the
// crashing HDF5 function), outside the regression test: a golden file is only
// as safe as libhdf5 unless its sha256 is checked before HDF5 opens it, and
// goldpath checks it (golden/MANIFEST.sha256, harness verify and run). So CI
// does not fuzz this target (its findings would be libhdf5's); it replays its
// seeds and regressions in ctest, and `scripts/fuzz.sh golden_fuzz` fuzzes it
// on demand, e.g. after a change to core/golden.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/golden.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr int kMaxDepth = 8;
constexpr int kMaxObjects = 2000;

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

template <class F>
void allowed(F fn) {
  try {
    fn();
  } catch (const gp::Error&) {
  }
}

struct Walker {
  const gp::GoldenFile& f;
  int objects = 0;
  volatile uint64_t sink = 0;

  void attrs(const std::string& obj) {
    std::vector<std::string> names;
    allowed([&] { names = f.attr_names(obj); });
    for (const auto& a : names) {
      allowed([&] { sink = sink + f.has_attr(obj, a); });
      bool is_string = false;
      allowed([&] { is_string = f.attr_is_string(obj, a); });
      if (is_string) {
        allowed([&] { sink = sink + f.attr_string(obj, a).size(); });
      } else {
        allowed([&] { sink = sink + f.attr_ints(obj, a).size(); });
        allowed([&] { sink = sink + (uint64_t)f.attr_int(obj, a); });
        allowed([&] { sink = sink + (f.attr_double(obj, a) != 0); });
      }
    }
  }

  void dataset(const std::string& ds) {
    allowed([&] { sink = sink + f.dataset_kind(ds).size(); });
    allowed([&] { sink = sink + f.read_f32(ds).data.size(); });
    allowed([&] { sink = sink + f.read_i32(ds).data.size(); });
    allowed([&] { sink = sink + f.read_u8(ds).data.size(); });
    allowed([&] { sink = sink + f.read_i64(ds).data.size(); });
    if (ends_with(ds, "_bytes"))
      allowed([&] { sink = sink + f.read_strings(ds.substr(0, ds.size() - 6)).size(); });
    if (ends_with(ds, "_offsets"))
      allowed([&] { sink = sink + f.read_ragged_i32(ds.substr(0, ds.size() - 8)).size(); });
  }

  void walk(const std::string& group, int depth) {
    std::vector<std::string> kids;
    allowed([&] { kids = f.children(group); });
    for (const auto& k : kids) {
      if (++objects > kMaxObjects) return;
      const std::string p = (group == "/" ? "" : group) + "/" + k;
      allowed([&] { sink = sink + f.exists(p); });
      attrs(p);
      if (f.is_group(p)) {
        if (depth < kMaxDepth) walk(p, depth + 1);
      } else {
        dataset(p);
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = gpfuzz::scratch_path("input.h5");
  gpfuzz::write_file(path, data, size);
  try {
    gp::GoldenFile f(path);
    Walker w{f};
    w.attrs("/");
    w.walk("/", 0);
    gpfuzz::accepted("GoldenFile");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("GoldenFile", e);
  }
  return 0;
}
