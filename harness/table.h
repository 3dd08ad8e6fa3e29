// table.h: a plain-text table with aligned columns for terminal output.
#pragma once
#include <string>
#include <vector>

namespace gp {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const {
    std::vector<size_t> w(header_.size(), 0);
    auto widen = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < r.size() && i < w.size(); i++) w[i] = std::max(w[i], r[i].size());
    };
    widen(header_);
    for (const auto& r : rows_) widen(r);
    auto line = [&](const std::vector<std::string>& r) {
      std::string s;
      for (size_t i = 0; i < w.size(); i++) {
        const std::string c = i < r.size() ? r[i] : "";
        s += c + std::string(w[i] - c.size(), ' ') + (i + 1 < w.size() ? "  " : "");
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s + "\n";
    };
    std::string out = line(header_);
    std::string rule;
    for (size_t i = 0; i < w.size(); i++) rule += std::string(w[i], '-') + (i + 1 < w.size() ? "  " : "");
    out += rule + "\n";
    for (const auto& r : rows_) out += line(r);
    return out;
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace gp
