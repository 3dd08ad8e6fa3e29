// memory.h: the host memory cap. Every allocation whose size comes from a file
// or a user argument asks here first, so a hostile or mistaken size is a
// one-line gp::Error naming what was asked for and what is allowed (the caller
// can carry on) instead of a std::bad_alloc or the OOM killer.
// The cap: set_host_memory_limit (the --max-host-memory option), else
// $GOLDPATH_MAX_HOST_MEMORY, else 90% of physical RAM.
#pragma once
#include <cstdint>
#include <string>

namespace gp {

constexpr const char* kHostMemoryEnv = "GOLDPATH_MAX_HOST_MEMORY";

// "123", "64K", "10M", "1.5G", "2T" (binary multiples; "10MiB", "10mb" too)
// -> bytes; throws gp::Error naming `what` for anything else or for <= 0.
int64_t parse_byte_size(const std::string& s, const std::string& what);

// 90% of physical RAM (sysconf), the default cap.
int64_t default_host_memory_limit();
// The cap now in force, in bytes; throws gp::Error when $GOLDPATH_MAX_HOST_MEMORY is malformed.
int64_t host_memory_limit();
// Overrides the environment and the default; 0 removes the override.
void set_host_memory_limit(int64_t bytes);

// Throws gp::Error("<what>: needs N bytes (...), over the host memory limit
// of ...; raise it with ...") when bytes exceed the cap.
void check_host_alloc(int64_t bytes, const std::string& what);
// count elements of elem_bytes each (the product checked for overflow).
void check_host_alloc(int64_t count, int64_t elem_bytes, const std::string& what);

// 1536 -> "1.5 KiB"
std::string human_bytes(int64_t bytes);

}  // namespace gp
