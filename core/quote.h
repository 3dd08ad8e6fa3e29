// quote.h: text from a file, made safe for a one-line error message:
// quoted, control and non-ASCII bytes escaped, long text cut short.
#pragma once
#include <cstddef>
#include <string>

namespace gp {

// "abc\n" -> 'abc\x0a'; more than max_len bytes -> first max_len bytes + "..."
// (not named quoted: ADL would pick std::quoted for a non-const std::string)
inline std::string quote(const std::string& s, size_t max_len = 96) {
  static const char* hex = "0123456789abcdef";
  std::string out = "'";
  for (size_t k = 0; k < s.size() && k < max_len; ++k) {
    unsigned char c = (unsigned char)s[k];
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += (char)c;
    }
  }
  if (s.size() > max_len) out += "...";
  return out + "'";
}

// a message from elsewhere (a parser, the OS) on one line; a parser may
// echo the raw bytes it choked on, so control and non-ASCII bytes are escaped
inline std::string one_line(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += (char)c;
    }
  }
  return out;
}

}  // namespace gp
