// chat_test.cpp: chat templates render as transformers does (the default
// model's own template against its golden prompt text), strip like Python,
// and refuse what they do not know.
#include <gtest/gtest.h>

#include "core/chat.h"
#include "core/error.h"
#include "core/gguf.h"
#include "core/golden.h"

namespace gp {
namespace {

const std::string kRoot = GOLDPATH_SOURCE_DIR;

TEST(Chat, DefaultModelTemplateRendersTheGoldenPrompt) {
  GgufFile g(kRoot + "/models/SmolLM2-135M-Instruct.Q4_1.gguf");
  const ChatTemplate t = ChatTemplate::recognize(g.get_string("tokenizer.chat_template"), "", "");
  EXPECT_EQ(t.format(), ChatFormat::ChatML);
  GoldenFile golden(kRoot + "/golden/smollm2_135m.h5");
  const std::string want = golden.attr_string("/model", "prompt_text");
  EXPECT_EQ(t.render({{"user", golden.attr_string("/", "prompt")}}, true), want);
  EXPECT_EQ(t.end_of_turn(), std::vector<std::string>{"<|im_end|>"});
  // a given system message replaces the default
  EXPECT_EQ(t.render({{"system", "S"}, {"user", "U"}}, false), "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n");
}

TEST(Chat, PythonStripRemovesUnicodeWhitespaceOnly) {
  EXPECT_EQ(python_strip(" \t\n hi there \r\n"), "hi there");
  EXPECT_EQ(python_strip("\u3000\u00a0x\u2028"), "x");
  EXPECT_EQ(python_strip("\u200bx"), "\u200bx") << "zero-width space is not whitespace in Python";
  EXPECT_EQ(python_strip("   "), "");
  EXPECT_EQ(python_strip("é "), "é");
}

TEST(Chat, UnknownTemplateIsOneLineErrorQuotingItsFirstLine) {
  try {
    ChatTemplate::recognize("{% for m in messages %}{{ m.content }}\n{% endfor %}", "<s>", "</s>");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("{% for m in messages %}"), std::string::npos) << w;
    EXPECT_EQ(w.find('\n'), std::string::npos) << w;
  }
  EXPECT_THROW(ChatTemplate::recognize("", "", ""), Error);
}

}  // namespace
}  // namespace gp
