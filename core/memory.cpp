// memory.cpp: the host memory cap (memory.h).
#include "core/memory.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/error.h"
#include "core/quote.h"

namespace gp {
namespace {

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

std::atomic<int64_t> g_override{0};  // bytes; 0 = none

}  // namespace

std::string human_bytes(int64_t bytes) {
  const char* unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = (double)bytes;
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, u++;
  char buf[64];
  if (u == 0) std::snprintf(buf, sizeof buf, "%lld bytes", (long long)bytes);
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, unit[u]);
  return buf;
}

int64_t parse_byte_size(const std::string& s, const std::string& what) {
  auto bad = [&]() {
    fail(what, ": ", quote(s), " is not a size in bytes (e.g. 123, 512K, 10M, 1.5G, 2T)");
  };
  size_t i = 0;
  long double v = 0;
  bool digits = false;
  while (i < s.size() && std::isdigit((unsigned char)s[i])) v = v * 10 + (s[i++] - '0'), digits = true;
  if (i < s.size() && s[i] == '.') {
    long double scale = 0.1L;
    for (i++; i < s.size() && std::isdigit((unsigned char)s[i]); i++, scale /= 10)
      v += (s[i] - '0') * scale, digits = true;
  }
  if (!digits) bad();
  std::string suffix;
  for (; i < s.size(); i++) suffix += (char)std::tolower((unsigned char)s[i]);
  int shift = 0;
  if (!suffix.empty()) {
    const std::string units = "kmgt";
    const size_t u = units.find(suffix[0]);
    if (u != std::string::npos) shift = 10 * (int)(u + 1), suffix.erase(0, 1);
    if (shift && !suffix.empty() && suffix[0] == 'i') suffix.erase(0, 1);  // KiB
    if (suffix != "" && suffix != "b") bad();
  }
  v *= (long double)((uint64_t)1 << shift);
  if (!(v >= 1)) fail(what, ": ", quote(s), " must be at least 1 byte");
  if (v >= (long double)kI64Max) fail(what, ": ", quote(s), " is too large");
  return (int64_t)v;
}

int64_t default_host_memory_limit() {
  static const int64_t limit = [] {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return kI64Max;  // unknown: no cap
    const long double ram = (long double)pages * (long double)page;
    return ram * 0.9L >= (long double)kI64Max ? kI64Max : (int64_t)(ram * 0.9L);
  }();
  return limit;
}

int64_t host_memory_limit() {
  if (const int64_t v = g_override.load(std::memory_order_relaxed)) return v;
  const char* env = std::getenv(kHostMemoryEnv);
  if (env && *env) return parse_byte_size(env, kHostMemoryEnv);
  return default_host_memory_limit();
}

void set_host_memory_limit(int64_t bytes) {
  GP_CHECK(bytes >= 0, "host memory limit ", bytes, " is negative");
  g_override.store(bytes, std::memory_order_relaxed);
}

void check_host_alloc(int64_t bytes, const std::string& what) {
  const int64_t limit = host_memory_limit();
  if (bytes <= limit) return;
  std::string allowed = human_bytes(limit);
  if (allowed == human_bytes(bytes)) allowed += str(" (", limit, " bytes)");  // rounding hides the difference
  fail(what, ": needs ", bytes, " bytes (", human_bytes(bytes), "), over the host memory limit of ", allowed,
       "; raise it with --max-host-memory or ", kHostMemoryEnv);
}

void check_host_alloc(int64_t count, int64_t elem_bytes, const std::string& what) {
  GP_CHECK(count >= 0 && elem_bytes >= 0, what, ": negative size (", count, " x ", elem_bytes, " bytes)");
  if (elem_bytes != 0 && count > kI64Max / elem_bytes)
    fail(what, ": needs ", count, " x ", elem_bytes, " bytes, more than 2^63 (the host memory limit is ",
         human_bytes(host_memory_limit()), ")");
  check_host_alloc(count * elem_bytes, what);
}

}  // namespace gp
