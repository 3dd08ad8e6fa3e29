// safetensors_fuzz.cpp: libFuzzer target for the safetensors reader
// (core/safetensors.h). The input is a .safetensors file. load_safetensors_file
// must return its tensors or throw gp::Error; every tensor returned must lie
// inside the file, hold the bytes its shape and dtype need, and is read.
#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = gpfuzz::scratch_path("input.safetensors");
  gpfuzz::write_file(path, data, size);
  volatile uint64_t sink = 0;
  try {
    const auto tensors = gp::load_safetensors_file(path);
    for (const auto& [name, t] : tensors) {
      const uint8_t* begin = t.file->data();
      const uint8_t* end = begin + t.file->size();
      if (t.nbytes < 0 || (t.nbytes > 0 && (!t.data || t.data < begin || t.data + t.nbytes > end)))
        gpfuzz::broken("tensor " + name + " data lies outside the file");
      int64_t numel = 1;
      for (int64_t d : t.shape) numel *= d;
      if (t.nbytes != numel * gp::dtype_block_bytes(t.dtype))
        gpfuzz::broken("tensor " + name + " bytes differ from its shape");
      sink = sink + gpfuzz::touch(t.data, t.nbytes);
    }
    gpfuzz::accepted("load_safetensors_file");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("load_safetensors_file", e);
  }
  return 0;
}
