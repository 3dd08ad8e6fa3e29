// cli_checks.cpp: command-line checks (cli_checks.h).
#include "harness/cli_checks.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace gp {
namespace {

std::string shown(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// the value as a number, or an error text
std::string read_number(const std::string& s, bool whole, double* v) {
  if (s.empty()) return "an empty value is not a number";
  const char* b = s.c_str();
  char* end = nullptr;
  errno = 0;
  if (whole) {
    const long long x = std::strtoll(b, &end, 10);
    if (*end || end == b) return "'" + s + "' is not a whole number";
    if (errno == ERANGE) return s + " is too large";
    *v = (double)x;
  } else {
    const double x = std::strtod(b, &end);
    if (*end || end == b || !std::isfinite(x)) return "'" + s + "' is not a number";
    *v = x;
  }
  return "";
}

}  // namespace

CLI::Validator at_least(double min, bool whole) {
  return CLI::Validator(
      [min, whole](std::string& s) -> std::string {
        double v = 0;
        const std::string bad = read_number(s, whole, &v);
        if (!bad.empty()) return bad;
        if (v < min) return s + " is below " + shown(min);
        if (whole && v > 2147483647.0) return s + " is too large (at most 2147483647)";
        return "";
      },
      std::string(whole ? "INT" : "NUMBER") + " >= " + shown(min));
}

CLI::Validator between(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        double v = 0;
        const std::string bad = read_number(s, false, &v);
        if (!bad.empty()) return bad;
        if (v < lo || v > hi) return s + " is outside " + shown(lo) + " to " + shown(hi);
        return "";
      },
      "NUMBER in [" + shown(lo) + ", " + shown(hi) + "]");
}

std::vector<int32_t> parse_id_list(const std::string& s, const std::string& option) {
  GP_CHECK(!s.empty(), option, " is empty: give comma-separated token ids, e.g. 1,2,3");
  std::vector<int32_t> ids;
  size_t b = 0, k = 1;
  while (true) {
    const size_t e = s.find(',', b);
    const std::string item = s.substr(b, e == std::string::npos ? std::string::npos : e - b);
    GP_CHECK(!item.empty(), option, " ", s, ": item ", k, " is empty");
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    GP_CHECK(*end == 0 && errno != ERANGE, option, " ", s, ": item ", k, " '", item, "' is not a token id");
    GP_CHECK(v >= 0 && v <= 2147483647, option, " ", s, ": item ", k, " ", item, " is not a token id (0 or more)");
    ids.push_back((int32_t)v);
    if (e == std::string::npos) break;
    b = e + 1;
    k++;
  }
  return ids;
}

}  // namespace gp
