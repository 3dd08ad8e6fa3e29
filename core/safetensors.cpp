// safetensors.cpp: safetensors reader (format: huggingface/safetensors
// README: u64 little-endian header length, JSON header, byte buffer) and the
// sharded-model index (model.safetensors.index.json, as transformers writes
// it). Data stays memory-mapped; offsets, shapes and dtypes are checked first.
#include "core/safetensors.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_depth.h"
#include "core/quote.h"

namespace gp {

namespace {

using json = nlohmann::json;

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
// transformers refuses headers over 100 MB too; a real one is well under 1 MB
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

bool parse_dtype(const std::string& s, DType* out) {
  if (s == "F32") *out = DType::F32;
  else if (s == "F16") *out = DType::F16;
  else if (s == "BF16") *out = DType::BF16;
  else return false;
  return true;
}

// a JSON integer in [0, int64 max], or -1
int64_t json_nonneg_int(const json& j) {
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    return v > (uint64_t)kI64Max ? -1 : (int64_t)v;
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    return v < 0 ? -1 : v;
  }
  return -1;
}

bool is_regular_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string join(const std::string& dir, const std::string& name) {
  return !dir.empty() && dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace

std::map<std::string, SafetensorsTensor> load_safetensors_file(const std::string& path) {
  auto file = std::make_shared<MappedFile>(path);
  const int64_t size = file->size();
  if (size < 8) fail(path, ": truncated: ", size, " bytes, too short for the 8-byte header length");
  uint64_t header_len;
  std::memcpy(&header_len, file->data(), 8);
  if (header_len > (uint64_t)(size - 8))
    fail(path, ": header length ", header_len, " exceeds the ", size - 8, " bytes after it");
  if (header_len > kMaxHeaderBytes) fail(path, ": header length ", header_len, " exceeds the 100 MB limit");

  const char* hb = reinterpret_cast<const char*>(file->data() + 8);
  json header;
  try {
    header = json::parse(hb, hb + header_len, json_depth_limit(path));
  } catch (const json::exception& e) {
    fail(path, ": bad JSON header: ", one_line(e.what()));
  }
  if (!header.is_object()) fail(path, ": JSON header is not an object");

  const int64_t data_start = 8 + (int64_t)header_len;
  const int64_t data_size = size - data_start;
  std::map<std::string, SafetensorsTensor> out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    std::string tq = quote(name);
    if (!info.is_object()) fail(path, ": tensor ", tq, ": entry is not an object");
    auto dt = info.find("dtype");
    auto sh = info.find("shape");
    auto of = info.find("data_offsets");
    if (dt == info.end() || !dt->is_string()) fail(path, ": tensor ", tq, ": missing or non-string \"dtype\"");
    if (sh == info.end() || !sh->is_array()) fail(path, ": tensor ", tq, ": missing or non-array \"shape\"");
    if (of == info.end() || !of->is_array() || of->size() != 2)
      fail(path, ": tensor ", tq, ": \"data_offsets\" must be an array [begin, end]");

    SafetensorsTensor t;
    t.name = name;
    t.file = file;
    std::string dts = dt->get<std::string>();
    if (!parse_dtype(dts, &t.dtype))
      fail(path, ": tensor ", tq, " has dtype ", quote(dts), ", which is not supported (F32, F16, BF16)");

    int64_t numel = 1;
    for (const auto& d : *sh) {
      int64_t v = json_nonneg_int(d);
      if (v < 0) fail(path, ": tensor ", tq, ": shape entries must be non-negative integers, got ", one_line(d.dump()));
      if (v != 0 && numel > kI64Max / v) fail(path, ": tensor ", tq, ": element count overflows int64");
      numel *= v;
      t.shape.push_back(v);
    }
    int64_t elem = dtype_block_bytes(t.dtype);
    if (numel > kI64Max / elem) fail(path, ": tensor ", tq, ": byte size overflows int64");
    int64_t begin = json_nonneg_int((*of)[0]);
    int64_t end = json_nonneg_int((*of)[1]);
    if (begin < 0 || end < 0) fail(path, ": tensor ", tq, ": data_offsets must be non-negative integers");
    if (begin > end) fail(path, ": tensor ", tq, ": data_offsets [", begin, ", ", end, "] are reversed");
    if (end > data_size)
      fail(path, ": tensor ", tq, ": data_offsets [", begin, ", ", end, "] extend past the end of the data (",
           data_size, " bytes)");
    if (end - begin != numel * elem)
      fail(path, ": tensor ", tq, ": data_offsets [", begin, ", ", end, "] hold ", end - begin,
           " bytes but shape and dtype need ", numel * elem);
    t.nbytes = end - begin;
    t.data = file->data() + data_start + begin;
    out.emplace(name, std::move(t));
  }

  // no two tensors may share bytes
  std::vector<const SafetensorsTensor*> by_offset;
  for (const auto& kv : out)
    if (kv.second.nbytes > 0) by_offset.push_back(&kv.second);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const SafetensorsTensor* a, const SafetensorsTensor* b) { return a->data < b->data; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const SafetensorsTensor* a = by_offset[k - 1];
    const SafetensorsTensor* b = by_offset[k];
    if (a->data + a->nbytes > b->data) fail(path, ": tensors ", quote(a->name), " and ", quote(b->name), " overlap");
  }
  return out;
}

std::map<std::string, SafetensorsTensor> load_safetensors_dir(const std::string& dir) {
  const std::string index_path = join(dir, "model.safetensors.index.json");
  const std::string single_path = join(dir, "model.safetensors");
  if (!is_regular_file(index_path)) {
    if (!is_regular_file(single_path))
      fail(dir, ": no model.safetensors or model.safetensors.index.json in this directory");
    return load_safetensors_file(single_path);
  }

  MappedFile index_file(index_path);
  const char* ib = reinterpret_cast<const char*>(index_file.data());
  json index;
  try {
    index = json::parse(ib, ib + index_file.size(), json_depth_limit(index_path));
  } catch (const json::exception& e) {
    fail(index_path, ": bad JSON: ", one_line(e.what()));
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail(index_path, ": no \"weight_map\" object");
  const json& wm = index["weight_map"];

  // shard name -> tensor names listed for it
  std::map<std::string, std::vector<std::string>> shards;
  for (const auto& [name, shard] : wm.items()) {
    if (!shard.is_string()) fail(index_path, ": weight_map entry ", quote(name), " is not a string");
    std::string s = shard.get<std::string>();
    if (s.empty() || s[0] == '/' || s.find("..") != std::string::npos)
      fail(index_path, ": weight_map entry ", quote(name), " names shard ", quote(s),
           ", which is not a file in this directory");
    shards[s].push_back(name);
  }
  if (shards.empty()) fail(index_path, ": weight_map is empty");

  std::map<std::string, SafetensorsTensor> out;
  for (const auto& [shard, names] : shards) {
    std::string shard_path = join(dir, shard);
    auto tensors = load_safetensors_file(shard_path);
    for (const auto& n : names)
      if (!tensors.count(n))
        fail(index_path, ": tensor ", quote(n), " is listed for shard ", quote(shard), " but is not in it");
    for (auto& kv : tensors) {
      if (out.count(kv.first))
        fail(shard_path, ": tensor ", quote(kv.first), " is also in another shard");
      out.emplace(kv.first, std::move(kv.second));
    }
  }
  return out;
}

}  // namespace gp
