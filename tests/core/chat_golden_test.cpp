// chat_golden_test.cpp: every chat rendering of golden/tokenizers.h5 (/chat):
// the C++ renderer gives transformers' text byte for byte, refuses where the
// template raises, and, where the golden has ids, the rendered text encodes
// to them.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/chat.h"
#include "core/error.h"
#include "core/golden.h"
#include "core/tokenizer.h"

namespace gp {
namespace {

const std::string kRoot = GOLDPATH_SOURCE_DIR;

std::string tokenizer_folder(const GoldenFile& f, const std::string& name) {
  return kRoot + "/" + f.attr_string("/tokenizers/" + name, "tokenizer_json");
}

TEST(ChatGolden, EveryTemplateRendersAsTransformers) {
  GoldenFile f(kRoot + "/golden/tokenizers.h5");
  ASSERT_NO_THROW(check_manifest(f.path()));
  const auto templates = f.children("/chat");
  EXPECT_EQ(templates, (std::vector<std::string>{"llama2", "llama3", "phi3", "smollm2"}));
  int rendered = 0, refused = 0, encoded = 0;
  for (const std::string& name : templates) {
    const std::string base = "/chat/" + name;
    const ChatTemplate t = ChatTemplate::recognize(f.attr_string(base, "template"), f.attr_string(base, "bos_token"),
                                                   f.attr_string(base, "eos_token"));
    EXPECT_STREQ(t.name(), name == "smollm2" ? "chatml" : name.c_str());
    std::unique_ptr<Tokenizer> tok;
    const std::string ids_tok = f.attr_string(base, "ids_tokenizer");
    if (!ids_tok.empty()) tok = Tokenizer::from_hf_dir(tokenizer_folder(f, ids_tok));
    for (const std::string& cs : f.children(base)) {
      const std::string g = base + "/" + cs;
      const auto roles = f.read_strings(g + "/roles");
      const auto contents = f.read_strings(g + "/contents");
      ASSERT_EQ(roles.size(), contents.size()) << g;
      std::vector<ChatMessage> msgs;
      for (size_t i = 0; i < roles.size(); i++) msgs.push_back({roles[i], contents[i]});
      const bool gen = f.attr_int(g, "add_generation_prompt") != 0;
      if (f.attr_int(g, "error")) {
        EXPECT_THROW(t.render(msgs, gen), Error) << g << " should refuse";
        refused++;
        continue;
      }
      const auto want = f.read_u8(g + "/rendered").data;
      const std::string got = t.render(msgs, gen);
      EXPECT_EQ(got, std::string(want.begin(), want.end())) << g;
      rendered++;
      if (tok && f.exists(g + "/ids")) {
        EXPECT_EQ(tok->encode(got, false), f.read_i32(g + "/ids").data) << g << " encoded";
        encoded++;
      }
    }
  }
  EXPECT_GT(rendered, 60);
  EXPECT_EQ(refused, 1);
  EXPECT_GT(encoded, 0);
}

}  // namespace
}  // namespace gp
