// golden_struct_fuzz.cpp: structure-aware libFuzzer target for goldpath's own
// golden-file logic (core/golden.h) on VALID HDF5 files with hostile content.
// The input is a recipe (read with FuzzedDataProvider) that builds, through
// libhdf5's C API, a small HDF5 file: groups (deep chains, wide fans),
// datasets (int8/32/64, uint8/64, float32/64, fixed and variable-length
// strings; ranks 0-3, null dataspaces; zero, small and huge dimensions, huge
// ones chunked and unwritten so the file stays small), attributes of every
// kind, golden/FORMAT.md's ragged encodings with valid or broken offsets,
// soft (possibly dangling) and hard (possibly cyclic) links, all under names
// goldpath reads (/ops/<op>/<case>, /model/..., /tokenizers/<name>/...,
// format_version, goldpath_model, eos_ids, ...) mixed with random ones.
// GoldenFile opens it and the file is walked and read every way
// (golden_walk.h); then a manifest built from the rest of the recipe (lines
// with right, wrong or malformed sha256s and hostile paths) goes through
// check_manifest, manifest_golden_files and manifest_problems.
// Every gp::Error is allowed; a crash, sanitizer report, leak or any other
// exception is a finding. libhdf5 only ever parses files it wrote itself
// here, so unlike golden_fuzz.cpp (raw bytes) this target runs in CI.
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "core/error.h"
#include "core/golden.h"
#include "core/sha256.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/golden_walk.h"

namespace {

// bytes of dataset and attribute data written per file (bigger datasets are
// chunked and left unwritten: HDF5 reads them as their fill value)
constexpr size_t kDataBudget = 64 * 1024;
constexpr int kMaxSteps = 32;
constexpr int kMaxObjects = 200;
// objects the walk visits: hard links repeat subtrees, and every visit costs HDF5 path lookups
constexpr int kMaxVisits = 400;

// names goldpath's reader, verify and tests look for (golden/FORMAT.md)
const std::vector<std::string>& known_names() {
  static const std::vector<std::string> n = {
      // groups
      "ops", "model", "tokenizers", "chat", "prefill", "decode", "layers", "0", "1", "2", "embedding", "rmsnorm",
      "linear", "rope", "attention", "swiglu", "add", "softmax", "t5_d67", "q4_1_t5_n37_k96", "smollm2", "tiny-phi3",
      // datasets
      "table", "ids", "x", "weight", "positions", "q", "k", "v", "gate", "up", "a", "b", "out", "prompt_ids",
      "generated_ids", "logits", "logits_topk_values", "logits_topk_ids", "final_norm", "attn_norm", "attn_out",
      "ffn_norm", "ffn_out", "corpus", "ids_special", "ids_plain", "decode_skip", "stream", "stream_step",
      "stream_line_offsets", "decode_extra_names", "decode_extra_ids", "decode_extra", "decode_extra_skip",
      // attributes
      "format_version", "kind", "goldpath_model", "model_id", "prompt", "dtype", "lowp_dtype", "seed", "regenerate",
      "oracle", "eos_ids", "max_new_tokens", "steps", "text", "prompt_text", "chat_prompt", "eps", "theta", "n",
      "q_pos0", "sliding_window", "lowp_max_abs", "lowp_nmse", "tokenizer_json", "vocab_size", "bos_id",
      "bos_token", "eos_token", "special_ids", "add_bos", "add_eos", "chat_template", "template", "ids_tokenizer",
      "add_generation_prompt", "error", "n_lines", "model_type"};
  return n;
}

// the ragged encodings' base names
const std::vector<std::string>& ragged_names() {
  static const std::vector<std::string> n = {"corpus", "decode", "decode_skip", "stream", "decode_extra_names",
                                             "decode_extra", "ids_special", "ids_plain", "decode_extra_ids",
                                             "prompt_ids", "x"};
  return n;
}

template <class T>
const T& pick(FuzzedDataProvider& p, const std::vector<T>& v) {
  return v[p.ConsumeIntegralInRange<size_t>(0, v.size() - 1)];
}

// ---------------------------------------------------------------------------
// the file builder: every HDF5 call that fails (a name HDF5 refuses, one
// that exists already) only skips that object

struct Hid {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  Hid(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() {
    if (id >= 0) close(id);
  }
  bool ok() const { return id >= 0; }
};

struct Builder {
  FuzzedDataProvider& p;
  hid_t file;
  std::vector<std::string> groups{"/"};
  std::vector<std::string> objects{"/"};
  size_t budget = kDataBudget;

  std::string name() {
    const int how = p.ConsumeIntegralInRange(0, 7);
    if (how < 5) return pick(p, known_names());
    if (how == 5) return pick(p, known_names()) + p.ConsumeRandomLengthString(4);
    return p.ConsumeRandomLengthString(12);  // empty, '/', '.', not UTF-8: HDF5 may refuse it
  }
  std::string child(const std::string& parent, const std::string& n) const {
    return (parent == "/" ? "" : parent) + "/" + n;
  }

  bool add_group(const std::string& path) {
    Hid g(H5Gcreate2(file, path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    if (!g.ok()) return false;
    groups.push_back(path);
    objects.push_back(path);
    return true;
  }

  // a dimension: mostly small, sometimes zero, sometimes past what the reader accepts
  hsize_t dim() {
    const int how = p.ConsumeIntegralInRange(0, 11);
    if (how <= 8) return (hsize_t)how;
    if (how == 9) return 4096;
    static const hsize_t huge[] = {(hsize_t(1) << 28) + 1, hsize_t(1) << 31, hsize_t(1) << 40,
                                   hsize_t(1) << 62};
    return huge[p.ConsumeIntegralInRange(0, 3)];
  }

  // a dataspace: scalar, null or simple of rank 1-3 (dims given or drawn)
  hid_t space(int rank, const hsize_t* dims, bool unlimited) {
    if (rank == 0) return H5Screate(H5S_SCALAR);
    if (rank < 0) return H5Screate(H5S_NULL);
    hsize_t maxd[3] = {H5S_UNLIMITED, H5S_UNLIMITED, H5S_UNLIMITED};
    return H5Screate_simple(rank, dims, unlimited ? maxd : nullptr);
  }

  // a memory/file type; *vlen says it is a variable-length string
  hid_t type(int kind, bool* vlen) {
    *vlen = false;
    switch (kind) {
      case 0: return H5Tcopy(H5T_NATIVE_INT32);
      case 1: return H5Tcopy(H5T_NATIVE_INT64);
      case 2: return H5Tcopy(H5T_NATIVE_UINT8);
      case 3: return H5Tcopy(H5T_NATIVE_FLOAT);
      case 4: return H5Tcopy(H5T_NATIVE_DOUBLE);
      case 5: return H5Tcopy(H5T_NATIVE_INT8);
      case 6: return H5Tcopy(H5T_NATIVE_UINT64);
      case 7: return H5Tcopy(H5T_STD_I16BE);
      case 8: {  // fixed-length string
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, p.ConsumeIntegralInRange<size_t>(1, 16));
        H5Tset_strpad(t, (H5T_str_t)p.ConsumeIntegralInRange(0, 2));
        H5Tset_cset(t, p.ConsumeBool() ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
        return t;
      }
      default: {  // variable-length string
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, p.ConsumeBool() ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
        *vlen = true;
        return t;
      }
    }
  }

  // n elements of type t as bytes from the recipe (a pattern once it runs
  // out); variable-length strings as pointers into `strings` (some null)
  std::vector<uint8_t> values(hid_t t, bool vlen, size_t n, std::vector<std::string>& strings,
                              std::vector<const char*>& ptrs) {
    if (vlen) {
      strings.resize(n);
      ptrs.assign(n, nullptr);
      for (size_t k = 0; k < n; ++k) {
        if (p.ConsumeIntegralInRange(0, 7) == 0) continue;  // a null string
        strings[k] = p.ConsumeRandomLengthString(24);       // not always UTF-8
        ptrs[k] = strings[k].c_str();
      }
      return {};
    }
    const size_t bytes = n * H5Tget_size(t);
    std::vector<uint8_t> v = p.ConsumeBytes<uint8_t>(bytes);
    for (size_t k = v.size(); k < bytes; ++k) v.push_back((uint8_t)(k * 37 + 11));
    return v;
  }

  void add_dataset(const std::string& path, int kind, int rank, std::vector<hsize_t> dims,
                   const std::vector<uint8_t>* given = nullptr) {
    bool vlen = false;
    Hid t(type(kind, &vlen), H5Tclose);
    if (!t.ok()) return;
    size_t n = 1;
    bool fits = true;
    for (int k = 0; k < std::max(rank, 0); ++k) {
      if (dims[k] > kDataBudget || (n *= dims[k]) > kDataBudget) fits = false;
    }
    if (rank < 0) n = 0;
    const size_t esize = vlen ? 32 : H5Tget_size(t.id);
    fits = fits && n * esize <= budget;
    Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    if (!fits) {  // chunked, extendible, never written: only its fill value can be read
      hsize_t chunk[3];
      for (int k = 0; k < rank; ++k) chunk[k] = std::min<hsize_t>(std::max<hsize_t>(dims[k], 1), 16);
      if (rank <= 0 || H5Pset_chunk(dcpl.id, rank, chunk) < 0) return;
    } else if (rank > 0 && p.ConsumeIntegralInRange(0, 3) == 0 && n * esize < 16000) {
      H5Pset_layout(dcpl.id, H5D_COMPACT);
    }
    Hid sp(space(rank, dims.data(), !fits), H5Sclose);
    if (!sp.ok()) return;
    Hid d(H5Dcreate2(file, path.c_str(), t.id, sp.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT), H5Dclose);
    if (!d.ok()) return;
    objects.push_back(path);
    if (!fits || n == 0) return;
    budget -= n * esize;
    std::vector<std::string> strings;
    std::vector<const char*> ptrs;
    std::vector<uint8_t> v = given ? *given : values(t.id, vlen, n, strings, ptrs);
    H5Dwrite(d.id, t.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, vlen ? (const void*)ptrs.data() : (const void*)v.data());
  }

  void random_dataset(const std::string& path) {
    const int kind = p.ConsumeIntegralInRange(0, 9);
    const int rank = p.ConsumeIntegralInRange(-1, 3);
    std::vector<hsize_t> dims(3, 0);
    for (int k = 0; k < rank; ++k) dims[k] = dim();
    add_dataset(path, kind, rank, dims);
  }

  void add_attr(const std::string& obj, const std::string& n) {
    const int kind = p.ConsumeIntegralInRange(0, 9);
    // rank: scalar mostly, 1-d, 2-d or null
    int rank = 0;
    const int r = p.ConsumeIntegralInRange(0, 7);
    if (r >= 4) rank = r < 7 ? 1 : 2;
    if (r == 3) rank = -1;
    hsize_t dims[2] = {rank > 0 ? (hsize_t)p.ConsumeIntegralInRange(0, 8) : 0,
                       rank > 1 ? (hsize_t)p.ConsumeIntegralInRange(0, 4) : 0};
    bool vlen = false;
    Hid t(type(kind, &vlen), H5Tclose);
    Hid sp(space(rank, dims, false), H5Sclose);
    if (!t.ok() || !sp.ok()) return;
    Hid a(H5Acreate_by_name(file, obj.c_str(), n.c_str(), t.id, sp.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          H5Aclose);
    if (!a.ok()) return;
    const hssize_t count = H5Sget_select_npoints(sp.id);
    if (count <= 0) return;
    std::vector<std::string> strings;
    std::vector<const char*> ptrs;
    std::vector<uint8_t> v = values(t.id, vlen, (size_t)count, strings, ptrs);
    H5Awrite(a.id, t.id, vlen ? (const void*)ptrs.data() : (const void*)v.data());
  }

  void int64_attr(const std::string& obj, const std::string& n, int64_t value) {
    Hid sp(H5Screate(H5S_SCALAR), H5Sclose);
    Hid a(H5Acreate_by_name(file, obj.c_str(), n.c_str(), H5T_NATIVE_INT64, sp.id, H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT),
          H5Aclose);
    if (a.ok()) H5Awrite(a.id, H5T_NATIVE_INT64, &value);
  }

  // offsets for `total` elements in `parts` parts: valid, or broken one way
  std::vector<int64_t> offsets(int64_t total) {
    const size_t parts = p.ConsumeIntegralInRange<size_t>(0, 12);
    std::vector<int64_t> off{0};
    for (size_t k = 0; k + 1 < parts; ++k) off.push_back(p.ConsumeIntegralInRange<int64_t>(0, total));
    std::sort(off.begin(), off.end());
    if (parts) off.push_back(total);
    const size_t at = p.ConsumeIntegralInRange<size_t>(0, off.size() - 1);
    switch (p.ConsumeIntegralInRange(0, 9)) {
      case 0: off[at] = -p.ConsumeIntegralInRange<int64_t>(1, INT64_MAX); break;   // negative
      case 1: off[at] = total + p.ConsumeIntegralInRange<int64_t>(1, 1000); break;  // past the data
      case 2: off[at] = INT64_MAX; break;
      case 3: off[at] = INT64_MIN; break;
      case 4: std::reverse(off.begin(), off.end()); break;  // decreasing
      case 5: off.clear(); break;
      case 6: off[at] = p.ConsumeIntegral<int64_t>(); break;
      default: break;  // valid
    }
    return off;
  }

  // golden/FORMAT.md's strings (<base>_bytes + <base>_offsets) or ragged ids (<base> + <base>_offsets)
  void add_ragged(const std::string& parent, bool strings) {
    const std::string base = child(parent, p.ConsumeBool() ? pick(p, ragged_names()) : name());
    const hsize_t n = p.ConsumeIntegralInRange<hsize_t>(0, 64);
    // the data usually has the right type and rank; sometimes not
    const int kind = p.ConsumeIntegralInRange(0, 5) ? (strings ? 2 : 0) : p.ConsumeIntegralInRange(0, 9);
    const int rank = p.ConsumeIntegralInRange(0, 5) ? 1 : p.ConsumeIntegralInRange(-1, 3);
    add_dataset(strings ? base + "_bytes" : base, kind, rank, {n, 2, 2});
    const std::vector<int64_t> off = offsets((int64_t)n);
    std::vector<uint8_t> bytes(off.size() * 8);
    if (!off.empty()) std::memcpy(bytes.data(), off.data(), bytes.size());
    const int okind = p.ConsumeIntegralInRange(0, 5) ? 1 : p.ConsumeIntegralInRange(0, 7);  // int64, or another type
    if (okind == 1) {
      add_dataset(base + "_offsets", 1, 1, {off.size(), 0, 0}, &bytes);
    } else {
      add_dataset(base + "_offsets", okind, 1, {off.size(), 0, 0});
    }
  }

  void step() {
    const std::string parent = pick(p, groups);
    switch (p.ConsumeIntegralInRange(0, 11)) {
      case 0:
      case 1: add_group(child(parent, name())); break;
      case 2:
      case 3: random_dataset(child(parent, name())); break;
      case 4:
      case 5: add_attr(pick(p, objects), name()); break;
      case 6: add_ragged(parent, true); break;
      case 7: add_ragged(parent, false); break;
      case 8: {  // soft link to an object, an ancestor, or nowhere
        const std::string target = p.ConsumeBool() ? pick(p, objects) : "/" + name() + "/" + name();
        const std::string link = child(parent, name());
        if (H5Lcreate_soft(target.c_str(), file, link.c_str(), H5P_DEFAULT, H5P_DEFAULT) >= 0)
          objects.push_back(link);
        break;
      }
      case 9: {  // hard link: the same group twice, or a cycle
        const std::string link = child(parent, name());
        if (H5Lcreate_hard(file, pick(p, objects).c_str(), file, link.c_str(), H5P_DEFAULT, H5P_DEFAULT) >= 0)
          objects.push_back(link);
        break;
      }
      case 10: {  // a deep chain of groups
        std::string at = parent;
        const int depth = p.ConsumeIntegralInRange(1, 16);
        for (int d = 0; d < depth && (int)objects.size() < kMaxObjects; ++d) {
          const std::string next = child(at, p.ConsumeBool() ? "g" : pick(p, known_names()));
          if (!add_group(next)) break;
          at = next;
        }
        break;
      }
      default: {  // a wide group: many small children
        const int width = p.ConsumeIntegralInRange(1, 48);
        const bool datasets = p.ConsumeBool();
        for (int k = 0; k < width && (int)objects.size() < kMaxObjects; ++k) {
          const std::string c = child(parent, std::to_string(k));
          if (datasets) {
            add_dataset(c, 0, 1, {1, 0, 0});
          } else {
            add_group(c);
          }
        }
      }
    }
  }

  void build() {
    // format_version: mostly the one this build reads, else wrong in value or type
    if (p.ConsumeIntegralInRange(0, 5)) {
      int64_attr("/", "format_version", p.ConsumeIntegralInRange(0, 7) ? gp::kGoldenFormatVersion
                                                                       : p.ConsumeIntegral<int64_t>());
    } else {
      add_attr("/", "format_version");
    }
    for (int s = 0; s < kMaxSteps && p.remaining_bytes() > 0 && (int)objects.size() < kMaxObjects; ++s) step();
  }
};

// writes the recipe's HDF5 file to path; false when HDF5 could not create it
bool build_file(FuzzedDataProvider& p, const std::string& path) {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // in memory, written out once at close
  H5Pset_fapl_core(fapl.id, 64 * 1024, 1);
  // the oldest or the newest object formats (compact or dense attributes and links)
  if (p.ConsumeBool()) H5Pset_libver_bounds(fapl.id, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  Hid f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id), H5Fclose);
  if (!f.ok()) return false;
  Builder b{p, f.id};
  b.build();
  return true;
}

// ---------------------------------------------------------------------------
// the manifest: lines "<sha256>  <path>" for files that exist (the golden
// file, a model file), do not, or escape the folder, with right, wrong or
// malformed hashes and separators

void write_manifest(FuzzedDataProvider& p, const std::string& dir, const std::string& golden_sha) {
  static const std::vector<std::string> paths = {
      "golden.h5", "tokenizers.h5", "models/tiny/config.json", "missing.h5", ".h5", "", "../golden.h5",
      "models", "golden.h5 ", "GOLDEN.H5", "./golden.h5", "models/tiny/../../golden.h5",
      "../../../../../../../../../../dev/zero", "/dev/zero"};
  std::string text;
  if (p.ConsumeIntegralInRange(0, 7) == 0) {
    text = p.ConsumeRandomLengthString(512);
  } else {
    const int lines = p.ConsumeIntegralInRange(0, 8);
    for (int l = 0; l < lines; ++l) {
      const int h = p.ConsumeIntegralInRange(0, 5);
      std::string sha = h <= 2 ? golden_sha : h == 3 ? std::string(64, 'f') : p.ConsumeRandomLengthString(70);
      static const std::vector<std::string> seps = {"  ", " ", "\t", "   ", " *"};
      const std::string& sep = p.ConsumeIntegralInRange(0, 3) ? seps[0] : pick(p, seps);
      const std::string rel = p.ConsumeIntegralInRange(0, 5) ? pick(p, paths) : p.ConsumeRandomLengthString(20);
      text += sha + sep + rel + (p.ConsumeIntegralInRange(0, 7) ? "\n" : "\r\n");
    }
  }
  gpfuzz::write_file(dir + "/MANIFEST.sha256", text);
}

void check_manifests(FuzzedDataProvider& p, const std::string& dir, const std::string& golden) {
  std::string sha;
  try {
    sha = gp::sha256_file(golden);
  } catch (const gp::Error& e) {
    gpfuzz::broken(std::string("cannot hash the file just written: ") + e.what());
  }
  write_manifest(p, dir, sha);
  volatile uint64_t sink = 0;
  try {
    gp::check_manifest(golden);
  } catch (const gp::Error& e) {
    gpfuzz::rejected("check_manifest", e);
  }
  try {
    for (const auto& f : gp::manifest_golden_files(dir)) {
      if (f.compare(0, dir.size() + 1, dir + "/") != 0 || !gpfuzz::ends_with(f, ".h5"))
        gpfuzz::broken("manifest_golden_files gave " + f);
      sink = sink + f.size();
    }
  } catch (const gp::Error& e) {
    gpfuzz::rejected("manifest_golden_files", e);
  }
  try {
    for (const auto& line : gp::manifest_problems(dir)) sink = sink + line.size();
  } catch (const gp::Error& e) {
    gpfuzz::rejected("manifest_problems", e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // dir/golden.h5 beside dir/MANIFEST.sha256 and a model file the manifest may list
  static const std::string dir = [] {
    const std::string d = gpfuzz::scratch_dir("golden");
    gpfuzz::write_file(gpfuzz::scratch_path("golden/models/tiny/config.json"), std::string("{\"model_type\": \"llama\"}\n"));
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // the builder's refused names are expected
    return d;
  }();
  const std::string path = dir + "/golden.h5";
  FuzzedDataProvider p(data, size);
  // the manifest's part of the recipe first: the file's part uses up the rest
  const std::vector<uint8_t> manifest_recipe = p.ConsumeBytes<uint8_t>(p.ConsumeIntegralInRange<size_t>(0, 512));
  if (!build_file(p, path)) gpfuzz::broken("HDF5 cannot create " + path);
  try {
    gp::GoldenFile f(path);
    gpfuzz::GoldenWalker w{f, kMaxVisits};
    w.walk_all();
    gpfuzz::accepted("GoldenFile");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("GoldenFile", e);
  }
  FuzzedDataProvider m(manifest_recipe.data(), manifest_recipe.size());
  check_manifests(m, dir, path);
  return 0;
}
