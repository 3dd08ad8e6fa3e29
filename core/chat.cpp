// chat.cpp: known chat templates (chat.h).
//
// Recognition is exact: the template text must equal one of the known texts
// below (for ChatML, with any default system message), so a template with
// features goldpath does not render (tools, other roles, other whitespace)
// is refused instead of rendered differently.
#include "core/chat.h"

#include <cstdint>

#include "core/error.h"
#include "core/quote.h"

namespace gp {
namespace {

// ChatML with a default system message: SmolLM2 (the default's text in the middle).
const char* kChatMLSystemHead =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
    "'<|im_start|>system\n";
const char* kChatMLSystemTail =
    "<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' "
    "}}{% endif %}";
// ChatML without a default system message.
const char* kChatML =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' "
    "}}{% endif %}";
// Phi-3-mini-4k-instruct.
const char* kPhi3 =
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + "
    "message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + "
    "message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' "
    "%}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if "
    "add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}";
// Llama-2-chat.
const char* kLlama2 =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set "
    "system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set "
    "system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] "
    "== 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != "
    "false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + "
    "message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if "
    "message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif "
    "message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% "
    "endfor %}";
// Llama-3-Instruct.
const char* kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim "
    "+ '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ "
    "content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

std::string rstrip_ascii(const std::string& s) {
  size_t e = s.size();
  while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\n' || s[e - 1] == '\t' || s[e - 1] == '\r')) e--;
  return s.substr(0, e);
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// decodes one UTF-8 code point at s[i] (valid input assumed; invalid bytes count as one)
uint32_t code_point(const std::string& s, size_t i, size_t* len) {
  const unsigned char c = s[i];
  int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < n; k++) cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3f);
  *len = n;
  return cp;
}

// Python's str.isspace()
bool py_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

}  // namespace

std::string python_strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t len;
    if (!py_space(code_point(s, b, &len))) break;
    b += len;
  }
  // walk back to the start of the last code point each time
  while (e > b) {
    size_t start = e - 1;
    while (start > b && ((unsigned char)s[start] & 0xc0) == 0x80) start--;
    size_t len;
    const uint32_t cp = code_point(s, start, &len);
    if (start + len != e || !py_space(cp)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

ChatTemplate ChatTemplate::recognize(const std::string& jinja, const std::string& bos,
                                     const std::string& eos) {
  GP_CHECK(!jinja.empty(), "the model has no chat template: --chat needs one");
  ChatTemplate t;
  t.bos_ = bos;
  t.eos_ = eos;
  const std::string j = rstrip_ascii(jinja);
  if (j == kChatML) {
    t.format_ = ChatFormat::ChatML;
    return t;
  }
  if (starts_with(j, kChatMLSystemHead) && ends_with(j, kChatMLSystemTail) &&
      j.size() > std::string(kChatMLSystemHead).size() + std::string(kChatMLSystemTail).size()) {
    const size_t h = std::string(kChatMLSystemHead).size(), tl = std::string(kChatMLSystemTail).size();
    const std::string sys = j.substr(h, j.size() - h - tl);
    if (sys.find('\'') == std::string::npos && sys.find('{') == std::string::npos) {
      t.format_ = ChatFormat::ChatML;
      t.default_system_ = sys;
      return t;
    }
  }
  if (j == kPhi3) {
    t.format_ = ChatFormat::Phi3;
    return t;
  }
  if (j == kLlama2) {
    t.format_ = ChatFormat::Llama2;
    return t;
  }
  if (j == kLlama3) {
    t.format_ = ChatFormat::Llama3;
    return t;
  }
  const std::string first = jinja.substr(0, jinja.find('\n'));
  fail("unknown chat template (goldpath renders SmolLM2/ChatML, Phi-3, Llama 2 and Llama 3): ",
       quote(first.size() > 120 ? first.substr(0, 120) + "..." : first));
}

const char* ChatTemplate::name() const {
  switch (format_) {
    case ChatFormat::ChatML: return "chatml";
    case ChatFormat::Phi3: return "phi3";
    case ChatFormat::Llama2: return "llama2";
    case ChatFormat::Llama3: return "llama3";
  }
  return "?";
}

std::vector<std::string> ChatTemplate::end_of_turn() const {
  switch (format_) {
    case ChatFormat::ChatML: return {"<|im_end|>"};
    case ChatFormat::Phi3: return {"<|end|>"};
    case ChatFormat::Llama2: return {eos_};
    case ChatFormat::Llama3: return {"<|eot_id|>"};
  }
  return {};
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& msgs, bool add_gen) const {
  std::string out;
  switch (format_) {
    case ChatFormat::ChatML:
      for (size_t i = 0; i < msgs.size(); i++) {
        if (i == 0 && !default_system_.empty() && msgs[0].role != "system")
          out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
        out += "<|im_start|>" + msgs[i].role + "\n" + msgs[i].content + "<|im_end|>\n";
      }
      if (add_gen) out += "<|im_start|>assistant\n";
      return out;
    case ChatFormat::Phi3:
      for (const auto& m : msgs)
        if (m.role == "system" || m.role == "user" || m.role == "assistant")
          out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
      out += add_gen ? std::string("<|assistant|>\n") : eos_;
      return out;
    case ChatFormat::Llama2: {
      size_t first = 0;
      std::string system;
      bool has_system = !msgs.empty() && msgs[0].role == "system";
      if (has_system) system = msgs[0].content, first = 1;
      for (size_t i = first; i < msgs.size(); i++) {
        const size_t k = i - first;
        GP_CHECK((msgs[i].role == "user") == (k % 2 == 0),
                 "chat template llama2: Conversation roles must alternate user/assistant/user/assistant/...");
        std::string content = msgs[i].content;
        if (k == 0 && has_system) content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
        if (msgs[i].role == "user") out += bos_ + "[INST] " + python_strip(content) + " [/INST]";
        else if (msgs[i].role == "assistant") out += " " + python_strip(content) + " " + eos_;
      }
      return out;
    }
    case ChatFormat::Llama3:
      for (size_t i = 0; i < msgs.size(); i++) {
        if (i == 0) out += bos_;
        out += "<|start_header_id|>" + msgs[i].role + "<|end_header_id|>\n\n" + python_strip(msgs[i].content) + "<|eot_id|>";
      }
      if (add_gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
  }
  return out;
}

}  // namespace gp
