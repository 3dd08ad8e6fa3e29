// sha256.h: SHA-256 of a file (OpenSSL), as lowercase hex.
#pragma once
#include <string>

namespace gp {
std::string sha256_file(const std::string& path);  // throws gp::Error naming path
}
