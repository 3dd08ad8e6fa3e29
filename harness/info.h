// info.h: `goldpath info`: what a model is (architecture, shapes, every
// tensor's dtype and shape, tokenizer, chat template) and what it needs in
// memory for a context on each backend; and `--list-backends`: every backend
// goldpath knows, whether it can run here, and why not.
#pragma once
#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace gp {

struct InfoArgs {
  std::string model;            // empty with --list-backends alone
  int64_t ctx = 0;              // 0: the model's context
  std::string format = "table";  // table | json
  bool list_backends = false;
  bool tensors = true;
};
CLI::App* add_info_command(CLI::App& app, InfoArgs& a);
int cmd_info(const InfoArgs& a);
// The backend listing alone (also `goldpath --list-backends`).
int print_backends(const std::string& format);

}  // namespace gp
