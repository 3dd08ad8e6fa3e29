// chat_fuzz.cpp: libFuzzer target for the chat templates (core/chat.h). The
// input is fields separated by NUL bytes (the seeds are golden/tokenizers.h5's
// conversations): flags (bit 0: add_generation_prompt), a template text, bos
// text, eos text, then role, content, role, content, ... The conversation is
// rendered through each of the four known templates (read at start-up from
// golden/tokenizers.h5 /chat/<name>@template, with their bos/eos), and the
// template text goes through ChatTemplate::recognize (with the input's
// bos/eos) and, when recognized, renders the conversation too. Rendering may
// refuse (Llama 2's alternation) only with gp::Error; python_strip must give
// a substring of its input.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/chat.h"
#include "core/error.h"
#include "core/golden.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

const std::vector<gp::ChatTemplate>& known() {
  static const std::vector<gp::ChatTemplate> t = [] {
    gp::GoldenFile f(gpfuzz::kRoot + "/golden/tokenizers.h5");
    std::vector<gp::ChatTemplate> out;
    for (const std::string& name : f.children("/chat")) {
      const std::string g = "/chat/" + name;
      out.push_back(gp::ChatTemplate::recognize(f.attr_string(g, "template"), f.attr_string(g, "bos_token"),
                                                f.attr_string(g, "eos_token")));
    }
    if (out.size() != 4) gpfuzz::broken("golden/tokenizers.h5 does not hold the four chat templates");
    return out;
  }();
  return t;
}

void render(const gp::ChatTemplate& t, const std::vector<gp::ChatMessage>& msgs, bool gen, volatile uint64_t& sink) {
  try {
    sink = sink + t.render(msgs, gen).size() + t.end_of_turn().size();
  } catch (const gp::Error&) {
    if (t.format() != gp::ChatFormat::Llama2) gpfuzz::broken(std::string("template ") + t.name() + " refused");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& templates = known();
  std::vector<std::string> fields(1);
  for (size_t k = 0; k < size; ++k) {
    if (data[k] == 0) fields.emplace_back();
    else fields.back() += (char)data[k];
  }
  fields.resize(std::max<size_t>(fields.size(), 4));
  const bool gen = !fields[0].empty() && (fields[0][0] & 1);
  std::vector<gp::ChatMessage> msgs;
  for (size_t k = 4; k < fields.size(); k += 2)
    msgs.push_back({fields[k], k + 1 < fields.size() ? fields[k + 1] : std::string()});

  volatile uint64_t sink = 0;
  for (const auto& t : templates) render(t, msgs, gen, sink);
  try {
    const gp::ChatTemplate t = gp::ChatTemplate::recognize(fields[1], fields[2], fields[3]);
    render(t, msgs, gen, sink);
    gpfuzz::accepted("recognize");
  } catch (const gp::Error& e) {
    gpfuzz::rejected("recognize", e);
  }
  for (const auto& m : msgs) {
    const std::string s = gp::python_strip(m.content);
    if (m.content.find(s) == std::string::npos) gpfuzz::broken("python_strip gave text not in its input");
    sink = sink + s.size();
  }
  return 0;
}
