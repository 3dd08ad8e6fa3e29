// gguf.cpp: GGUF reader (versions 2 and 3, little-endian), following the
// format described in ggml's docs/gguf.md. The file is memory-mapped; every
// count, length, dimension and offset read from it is checked against the
// bytes that remain and for overflow before it is used, and every problem is
// one line: "<path>: <problem>".
#include "core/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/memory.h"
#include "core/quote.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF reader assumes a little-endian host"
#endif

namespace gp {

namespace {

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
// smallest possible encodings, to bound counts by the bytes left
constexpr int64_t kMinKvBytes = 8 + 4 + 1;               // key length, type, 1-byte value
constexpr int64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, ne[0], type, offset

// ---------------------------------------------------------------------------
// type tables

const char* value_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "u8";
    case GgufType::I8: return "i8";
    case GgufType::U16: return "u16";
    case GgufType::I16: return "i16";
    case GgufType::U32: return "u32";
    case GgufType::I32: return "i32";
    case GgufType::F32: return "f32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::U64: return "u64";
    case GgufType::I64: return "i64";
    case GgufType::F64: return "f64";
  }
  return "unknown";
}

bool valid_value_type(uint32_t t) { return t <= (uint32_t)GgufType::F64; }

bool is_int_type(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
    case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64:
      return true;
    default:
      return false;
  }
}

bool is_float_type(GgufType t) { return t == GgufType::F32 || t == GgufType::F64; }

// bytes of one value; for strings the minimum (the length field)
int64_t value_min_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: case GgufType::STRING: return 8;
    case GgufType::ARRAY: return 4 + 8;
  }
  return 1;
}

// ggml type ids (ggml.h enum ggml_type), named for error messages
const char* ggml_type_name(uint32_t id) {
  static const char* names[] = {
      "f32", "f16", "q4_0", "q4_1", "q4_2", "q4_3", "q5_0", "q5_1", "q8_0", "q8_1",
      "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "q8_K", "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s",
      "iq4_nl", "iq3_s", "iq2_s", "iq4_xs", "i8", "i16", "i32", "i64", "f64", "iq1_m",
      "bf16", "q4_0_4_4", "q4_0_4_8", "q4_0_8_8", "tq1_0", "tq2_0", "iq4_nl_4_4", "iq4_nl_4_8",
      "iq4_nl_8_8", "mxfp4"};
  return id < sizeof(names) / sizeof(names[0]) ? names[id] : "unknown";
}

bool ggml_to_dtype(uint32_t id, DType* out) {
  switch (id) {
    case 0: *out = DType::F32; return true;
    case 1: *out = DType::F16; return true;
    case 2: *out = DType::Q4_0; return true;
    case 3: *out = DType::Q4_1; return true;
    case 8: *out = DType::Q8_0; return true;
    case 30: *out = DType::BF16; return true;
    default: return false;
  }
}

std::string dims_str(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t k = 0; k < ne.size(); ++k) s += (k ? ", " : "") + std::to_string(ne[k]);
  return s + "]";
}

// ---------------------------------------------------------------------------
// bounds-checked cursor over the mapped bytes

class Cursor {
 public:
  explicit Cursor(const MappedFile& f) : f_(f) {}

  void where(std::string w) { where_ = std::move(w); }
  int64_t pos() const { return pos_; }
  int64_t remaining() const { return f_.size() - pos_; }

  template <class... A>
  [[noreturn]] void error(const A&... a) const {
    fail(f_.path(), ": ", a...);
  }

  void need(int64_t n) const {
    if (n > remaining()) error("truncated in ", where_);
  }

  template <class T>
  T read() {
    need((int64_t)sizeof(T));
    T v;
    std::memcpy(&v, f_.data() + pos_, sizeof(T));
    pos_ += (int64_t)sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    uint64_t n = read<uint64_t>();
    if (n > (uint64_t)remaining())
      error("truncated in ", where_, ": ", what, " length ", n, " exceeds the ", remaining(), " bytes left");
    std::string s(reinterpret_cast<const char*>(f_.data() + pos_), (size_t)n);
    pos_ += (int64_t)n;
    return s;
  }

  // n elements of at least min_bytes each must fit in the bytes left
  int64_t check_count(uint64_t n, const char* what, int64_t min_bytes) const {
    if (n > (uint64_t)(remaining() / min_bytes))
      error("truncated in ", where_, ": ", what, " ", n, " exceeds what the ", remaining(), " bytes left can hold");
    return (int64_t)n;
  }
  int64_t read_count(const char* what, int64_t min_bytes) {
    uint64_t n = read<uint64_t>();
    return check_count(n, what, min_bytes);
  }

  // n parsed elements of elem_bytes each in host memory (more than their bytes in the file)
  void check_alloc(int64_t n, int64_t elem_bytes, const char* what) const {
    check_host_alloc(n, elem_bytes, str(f_.path(), ": ", what, " in ", where_));
  }

 private:
  const MappedFile& f_;
  int64_t pos_ = 0;
  std::string where_ = "header";
};

int64_t read_int_value(Cursor& c, GgufType t, const std::string& key) {
  switch (t) {
    case GgufType::U8: return c.read<uint8_t>();
    case GgufType::I8: return c.read<int8_t>();
    case GgufType::U16: return c.read<uint16_t>();
    case GgufType::I16: return c.read<int16_t>();
    case GgufType::U32: return c.read<uint32_t>();
    case GgufType::I32: return c.read<int32_t>();
    case GgufType::I64: return c.read<int64_t>();
    case GgufType::U64: {
      uint64_t v = c.read<uint64_t>();
      if (v > (uint64_t)kI64Max) c.error("key ", quote(key), ": u64 value ", v, " does not fit in int64");
      return (int64_t)v;
    }
    case GgufType::BOOL: return c.read<uint8_t>() != 0;
    default: c.error("key ", quote(key), ": internal: not an integer type");
  }
}

double read_float_value(Cursor& c, GgufType t) {
  return t == GgufType::F32 ? (double)c.read<float>() : c.read<double>();
}

void read_value(Cursor& c, GgufType t, GgufValue& v, const std::string& key) {
  v.type = t;
  if (t == GgufType::STRING) {
    v.s = c.read_string("string");
  } else if (is_float_type(t)) {
    v.f = read_float_value(c, t);
  } else if (t != GgufType::ARRAY) {
    v.i = read_int_value(c, t, key);
  } else {
    uint32_t et = c.read<uint32_t>();
    if (!valid_value_type(et)) c.error("key ", quote(key), ": array of unknown value type ", et);
    if ((GgufType)et == GgufType::ARRAY) c.error("key ", quote(key), ": nested arrays are not supported");
    v.elem_type = (GgufType)et;
    int64_t n = c.read_count("array count", value_min_bytes(v.elem_type));
    if (v.elem_type == GgufType::STRING) {
      c.check_alloc(n, (int64_t)sizeof(std::string), "array of strings");
      v.as.reserve((size_t)n);
      for (int64_t k = 0; k < n; ++k) v.as.push_back(c.read_string("string"));
    } else if (is_float_type(v.elem_type)) {
      c.check_alloc(n, (int64_t)sizeof(double), "array of numbers");
      v.af.reserve((size_t)n);
      for (int64_t k = 0; k < n; ++k) v.af.push_back(read_float_value(c, v.elem_type));
    } else {
      c.check_alloc(n, (int64_t)sizeof(int64_t), "array of integers");
      v.ai.reserve((size_t)n);
      for (int64_t k = 0; k < n; ++k) v.ai.push_back(read_int_value(c, v.elem_type, key));
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// parsing

GgufFile::GgufFile(const std::string& path) : file_(std::make_shared<MappedFile>(path)) {
  Cursor c(*file_);

  // header
  c.need(4);
  if (std::memcmp(file_->data(), "GGUF", 4) != 0)
    c.error("not a GGUF file (magic ", quote(std::string((const char*)file_->data(), 4)), ", expected 'GGUF')");
  c.read<uint32_t>();
  version_ = c.read<uint32_t>();
  if (version_ != 2 && version_ != 3) {
    if (version_ > 0xffff) c.error("unsupported GGUF version ", version_, " (a big-endian file?); versions 2 and 3 are supported");
    c.error("unsupported GGUF version ", version_, "; versions 2 and 3 are supported");
  }
  uint64_t n_tensors_raw = c.read<uint64_t>();  // checked where the tensor table starts
  int64_t n_kv = c.read_count("metadata key count", kMinKvBytes);
  // a map node per key: key, value and the tree's pointers
  c.check_alloc(n_kv, (int64_t)(sizeof(std::string) + sizeof(GgufValue) + 4 * sizeof(void*)), "metadata keys");

  // metadata
  for (int64_t k = 0; k < n_kv; ++k) {
    c.where(str("metadata (key ", k + 1, " of ", n_kv, ")"));
    std::string key = c.read_string("key");
    c.where(str("metadata (key ", k + 1, " of ", n_kv, ", ", quote(key), ")"));
    uint32_t t = c.read<uint32_t>();
    if (!valid_value_type(t)) c.error("key ", quote(key), " has unknown value type ", t);
    if (kv_.count(key)) c.error("duplicate key ", quote(key));
    read_value(c, (GgufType)t, kv_[key], key);
  }

  uint64_t alignment = kDefaultAlignment;
  if (has("general.alignment")) {
    const GgufValue& a = get("general.alignment");
    if (!is_int_type(a.type)) c.error("general.alignment has type ", value_type_name(a.type), ", expected an integer");
    if (a.i <= 0 || (a.i & (a.i - 1)) != 0) c.error("general.alignment ", a.i, " is not a positive power of two");
    alignment = (uint64_t)a.i;
  }

  // tensor table
  c.where("tensor table");
  int64_t n_tensors = c.check_count(n_tensors_raw, "tensor count", kMinTensorInfoBytes);
  c.check_alloc(n_tensors, (int64_t)(sizeof(GgufTensorInfo) + sizeof(std::string) + 5 * sizeof(void*)), "tensor table");
  tensors_.reserve((size_t)n_tensors);
  for (int64_t k = 0; k < n_tensors; ++k) {
    c.where(str("tensor table (tensor ", k + 1, " of ", n_tensors, ")"));
    GgufTensorInfo t;
    t.name = c.read_string("tensor name");
    std::string tq = quote(t.name);
    if (index_.count(t.name)) c.error("duplicate tensor name ", tq);
    c.where(str("tensor table (tensor ", k + 1, " of ", n_tensors, ", ", tq, ")"));
    uint32_t n_dims = c.read<uint32_t>();
    if (n_dims < 1 || n_dims > kMaxDims) c.error("tensor ", tq, " has ", n_dims, " dimensions (1 to ", kMaxDims, " supported)");
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = c.read<uint64_t>();
      if (ne == 0 || ne > (uint64_t)kI64Max) c.error("tensor ", tq, " has dimension ", d, " of size ", ne);
      t.ne.push_back((int64_t)ne);
      if (numel > kI64Max / (int64_t)ne) c.error("tensor ", tq, " element count overflows int64 (ne ", dims_str(t.ne), "...)");
      numel *= (int64_t)ne;
    }
    t.ggml_type = c.read<uint32_t>();
    if (!ggml_to_dtype(t.ggml_type, &t.dtype))
      c.error("tensor ", tq, " has ggml type ", t.ggml_type, " (", ggml_type_name(t.ggml_type),
              "), which is not supported (f32, f16, bf16, q8_0, q4_0, q4_1)");
    t.offset = c.read<uint64_t>();

    int64_t block = dtype_block_elems(t.dtype);
    if (t.ne[0] % block != 0)
      c.error("tensor ", tq, " rows of ", t.ne[0], " values are not a multiple of the ", dtype_name(t.dtype),
              " block size ", block);
    int64_t row_bytes = dtype_row_bytes(t.dtype, t.ne[0]);
    int64_t rows = numel / t.ne[0];
    if (row_bytes != 0 && rows > kI64Max / row_bytes) c.error("tensor ", tq, " byte size overflows int64");
    t.nbytes = row_bytes * rows;
    if (t.offset % alignment != 0)
      c.error("tensor ", tq, " offset ", t.offset, " is not a multiple of the alignment ", alignment);
    index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  // data section: starts at the next multiple of the alignment
  uint64_t table_end = (uint64_t)c.pos();
  uint64_t pad = (alignment - table_end % alignment) % alignment;
  uint64_t left = (uint64_t)c.remaining();
  if (tensors_.empty()) return;
  if (pad > left) c.error("truncated before the data section (", tensors_.size(), " tensors, no data)");
  int64_t data_start = (int64_t)(table_end + pad);
  uint64_t data_size = left - pad;

  for (auto& t : tensors_) {
    if (t.offset > data_size || (uint64_t)t.nbytes > data_size - t.offset)
      c.error("tensor ", quote(t.name), " data (offset ", t.offset, ", ", t.nbytes,
              " bytes) extends past the end of the file (data section has ", data_size, " bytes)");
    t.data = file_->data() + data_start + t.offset;
  }

  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const GgufTensorInfo* a = by_offset[k - 1];
    const GgufTensorInfo* b = by_offset[k];
    if (a->offset + (uint64_t)a->nbytes > b->offset)
      c.error("tensors ", quote(a->name), " and ", quote(b->name), " overlap (offsets ", a->offset, " and ",
              b->offset, ")");
  }
}

// ---------------------------------------------------------------------------
// lookups

const GgufValue& GgufFile::get(const std::string& key) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) fail(path(), ": missing metadata key ", quote(key));
  return it->second;
}

int64_t GgufFile::get_int(const std::string& key) const {
  const GgufValue& v = get(key);
  if (!is_int_type(v.type))
    fail(path(), ": metadata key ", quote(key), " has type ", value_type_name(v.type), ", expected an integer");
  return v.i;
}

double GgufFile::get_float(const std::string& key) const {
  const GgufValue& v = get(key);
  if (is_float_type(v.type)) return v.f;
  if (is_int_type(v.type)) return (double)v.i;
  fail(path(), ": metadata key ", quote(key), " has type ", value_type_name(v.type), ", expected a number");
}

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufType::STRING)
    fail(path(), ": metadata key ", quote(key), " has type ", value_type_name(v.type), ", expected a string");
  return v.s;
}

int64_t GgufFile::get_int_or(const std::string& key, int64_t dflt) const {
  return has(key) ? get_int(key) : dflt;
}

double GgufFile::get_float_or(const std::string& key, double dflt) const {
  return has(key) ? get_float(key) : dflt;
}

const GgufTensorInfo* GgufFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace gp
