// golden_walk.h: what the golden fuzz targets (golden_fuzz.cpp,
// golden_struct_fuzz.cpp) share: a walk over an opened gp::GoldenFile that
// lists every group (to a bounded depth and count: HDF5 links can form
// cycles), reads every attribute as what it says it is, reads every dataset
// as each type, and reads datasets named like golden/FORMAT.md's ragged
// encodings as strings and id lists. gp::Error is allowed throughout; a read
// that succeeds must be self-consistent (element count equal to the product
// of the shape, ragged parts that concatenate to their data), else the walk
// aborts through gpfuzz::broken.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/golden.h"
#include "tests/fuzz/fuzz_util.h"

namespace gpfuzz {

constexpr int kGoldenMaxDepth = 8;
constexpr int kGoldenMaxObjects = 2000;

inline bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

template <class F>
void allowed(F fn) {
  try {
    fn();
  } catch (const gp::Error&) {
  }
}

template <class T>
uint64_t check_array(const gp::Array<T>& a, const std::string& ds) {
  int64_t n = 1;
  for (int64_t d : a.shape) {
    if (d < 0) broken("dataset " + ds + " read with a negative dimension");
    n *= d;
  }
  if (n != a.numel()) broken("dataset " + ds + " read with " + std::to_string(a.numel()) +
                             " elements for a shape of " + std::to_string(n));
  return (uint64_t)n;
}

struct GoldenWalker {
  const gp::GoldenFile& f;
  int max_objects = kGoldenMaxObjects;  // objects visited at most (links can repeat a subtree)
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

  // <name>_bytes and <name>_offsets as strings: the parts concatenate to the bytes
  void strings(const std::string& name) {
    std::vector<std::string> parts;
    try {
      parts = f.read_strings(name);
    } catch (const gp::Error&) {
      return;
    }
    std::string joined;
    for (const auto& p : parts) joined += p;
    const auto bytes = f.read_u8(name + "_bytes").data;
    if (joined != std::string(bytes.begin(), bytes.end())) broken("strings " + name + " do not concatenate to _bytes");
    sink = sink + parts.size();
  }

  // <name> and <name>_offsets as id lists: the lists concatenate to the data
  void ragged(const std::string& name) {
    std::vector<std::vector<int32_t>> lists;
    try {
      lists = f.read_ragged_i32(name);
    } catch (const gp::Error&) {
      return;
    }
    std::vector<int32_t> joined;
    for (const auto& l : lists) joined.insert(joined.end(), l.begin(), l.end());
    if (joined != f.read_i32(name).data) broken("ragged " + name + " does not concatenate to its data");
    sink = sink + lists.size();
  }

  void dataset(const std::string& ds) {
    allowed([&] { sink = sink + f.dataset_kind(ds).size(); });
    allowed([&] { sink = sink + check_array(f.read_f32(ds), ds); });
    allowed([&] { sink = sink + check_array(f.read_i32(ds), ds); });
    allowed([&] { sink = sink + check_array(f.read_u8(ds), ds); });
    allowed([&] { sink = sink + check_array(f.read_i64(ds), ds); });
    if (ends_with(ds, "_bytes")) strings(ds.substr(0, ds.size() - 6));
    if (ends_with(ds, "_offsets")) {
      const std::string base = ds.substr(0, ds.size() - 8);
      ragged(base);
      strings(base);
    }
  }

  void walk(const std::string& group, int depth) {
    std::vector<std::string> kids;
    allowed([&] { kids = f.children(group); });
    for (const auto& k : kids) {
      if (++objects > max_objects) return;
      const std::string p = (group == "/" ? "" : group) + "/" + k;
      allowed([&] { sink = sink + f.exists(p); });
      attrs(p);
      if (f.is_group(p)) {
        if (depth < kGoldenMaxDepth) walk(p, depth + 1);
      } else {
        dataset(p);
      }
    }
  }

  void walk_all() {
    attrs("/");
    walk("/", 0);
  }
};

}  // namespace gpfuzz
