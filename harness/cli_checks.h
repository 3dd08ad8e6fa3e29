// cli_checks.h: command-line checks whose messages name the value and the
// rule in words ("-5 is below 0", "'abc' is not a whole number"), and the
// strict parse of an id list, for every command.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace gp {

// Usage errors (a bad word, option or value) exit with this code.
constexpr int kUsageError = 2;

// A number >= min (whole: an integer).
CLI::Validator at_least(double min, bool whole);
// A number in [lo, hi].
CLI::Validator between(double lo, double hi);
// "1,2,3" -> {1, 2, 3}; an empty list, an empty item ("1,,3"), a non-number
// or a negative id is a gp::Error naming `option`.
std::vector<int32_t> parse_id_list(const std::string& s, const std::string& option);

}  // namespace gp
