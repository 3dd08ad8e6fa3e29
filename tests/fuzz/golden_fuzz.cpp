// golden_fuzz.cpp: libFuzzer target for the golden HDF5 reader
// (core/golden.h) on raw bytes: the input is an .h5 file, corrupt or not.
// GoldenFile must open it or throw gp::Error; when it opens, the file is
// walked and read every way (golden_walk.h). This target covers libhdf5's
// parsing of the bytes plus goldpath's reader; golden_struct_fuzz.cpp covers
// goldpath's reader on valid HDF5 files with hostile content, and runs in CI.
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

#include "core/error.h"
#include "core/golden.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/golden_walk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = gpfuzz::scratch_path("input.h5");
  gpfuzz::write_file(path, data, size);
  try {
    gp::GoldenFile f(path);
    gpfuzz::GoldenWalker w{f};
    w.walk_all();
    gpfuzz::accepted("GoldenFile");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("GoldenFile", e);
  }
  return 0;
}
