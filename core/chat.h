// chat.h: chat templates. goldpath does not interpret Jinja: it recognizes
// the templates it knows (SmolLM2's ChatML, Phi-3, Llama 2, Llama 3) from the
// model's chat_template text and renders them in C++, byte for byte as
// transformers' apply_chat_template does. A template it does not know is an
// error quoting the template's first line: no silent fallback.
#pragma once
#include <string>
#include <vector>

namespace gp {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

enum class ChatFormat { ChatML, Phi3, Llama2, Llama3 };

class ChatTemplate {
 public:
  // jinja: the model's chat_template; bos/eos: the tokenizer's bos/eos token text.
  static ChatTemplate recognize(const std::string& jinja, const std::string& bos_token,
                                const std::string& eos_token);
  ChatFormat format() const { return format_; }
  const char* name() const;  // "chatml", "phi3", "llama2", "llama3"
  // The prompt text (to be encoded without adding special tokens, as
  // transformers does for a rendered template). Throws gp::Error where the
  // template raises (Llama 2: roles must alternate user/assistant).
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  // Text of the tokens that end an assistant turn ("<|im_end|>", "<|end|>", ...).
  std::vector<std::string> end_of_turn() const;

 private:
  ChatFormat format_ = ChatFormat::ChatML;
  std::string bos_, eos_;
  std::string default_system_;  // ChatML: system message used when none is given
};

// Python's str.strip() on UTF-8 text (Unicode whitespace), as Jinja's trim.
std::string python_strip(const std::string& s);

}  // namespace gp
