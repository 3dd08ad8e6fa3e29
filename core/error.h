// error.h: goldpath's one error type. Library code throws gp::Error with a
// one-line message naming the file/argument and the problem; only harness/
// turns it into a message on stderr and a non-zero exit.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace gp {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void cat_into(std::ostringstream&) {}
template <class T, class... R>
void cat_into(std::ostringstream& os, const T& v, const R&... r) {
  os << v;
  cat_into(os, r...);
}
}  // namespace detail

// str("a", 1, "b") -> "a1b"
template <class... A>
std::string str(const A&... a) {
  std::ostringstream os;
  detail::cat_into(os, a...);
  return os.str();
}

template <class... A>
[[noreturn]] void fail(const A&... a) {
  throw Error(str(a...));
}

}  // namespace gp

// GP_CHECK(cond, parts...): throws gp::Error(str(parts...)) when cond is false.
#define GP_CHECK(cond, ...)            \
  do {                                 \
    if (!(cond)) ::gp::fail(__VA_ARGS__); \
  } while (0)
