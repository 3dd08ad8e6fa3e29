// tokenizer.h: text <-> token ids exactly as Hugging Face tokenizers does it.
//
// Sources: a Hugging Face tokenizer.json (+ tokenizer_config.json beside it)
// or GGUF metadata (tokenizer.ggml.*); both sources of the same model give
// the same ids. Models:
//  - byte-level BPE (GPT-2 style: SmolLM2, Llama 3, Qwen2, StarCoder,
//    DeepSeek, Falcon, MPT): pre-tokenizer regexes with Unicode classes (PCRE2,
//    its tables brought to tokenizers' Unicode version by
//    core/unicode_supplement.h), byte-to-unicode mapping, merges by rank;
//    from GGUF, tokenizer.ggml.pre names the family's tokenizer.json pipeline;
//  - SentencePiece-style BPE with byte fallback (Llama 2, TinyLlama, Phi-3):
//    the Llama normalizer (prepend and replace by U+2581), merges by rank; a
//    GGUF "llama" vocabulary with scores and no merges (converted from a
//    tokenizer.model) runs as sentencepiece and llama.cpp run it: merges by
//    score, U+2581 before each text fragment (add_space_prefix),
//    remove_extra_whitespaces honoured; <0xNN> byte tokens for what the
//    vocabulary lacks.
// Added and special tokens are split out of the text first; BOS/EOS follow
// the post-processor (tokenizer.json) or add_bos/add_eos (GGUF).
// Anything else (another model type, normalizer or pre-tokenizer) is a
// gp::Error naming it: no silent fallback.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gp {

class GgufFile;
struct Model;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // dir: holds tokenizer.json (and optionally tokenizer_config.json)
  static std::unique_ptr<Tokenizer> from_hf_dir(const std::string& dir);
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& g);
  // whichever the model has: tokenizer.json in its folder, or its GGUF metadata
  static std::unique_ptr<Tokenizer> for_model(const Model& m);
  // The tokenizer alone, no weights read: a folder with tokenizer.json (no
  // config.json needed), a tokenizer.json path, or a GGUF's tokenizer.ggml.*
  // metadata whatever its architecture and tensors (a vocabulary-only GGUF).
  static std::unique_ptr<Tokenizer> from_path(const std::string& path);

  // text must be valid UTF-8 (else gp::Error naming the byte offset)
  virtual std::vector<int32_t> encode(const std::string& text, bool add_special_tokens) const = 0;
  // ids outside the vocabulary are a gp::Error; invalid UTF-8 from byte
  // tokens becomes U+FFFD as in transformers
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const = 0;

  virtual int vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;                // -1 when none
  virtual std::vector<int32_t> eos_ids() const = 0;  // may be empty
  virtual std::string token_text(int32_t id) const = 0;  // the vocabulary entry as stored
  virtual int32_t token_id(const std::string& text) const = 0;  // -1 when absent
  virtual bool is_special(int32_t id) const = 0;
  virtual std::string bos_token() const = 0;  // "" when none
  virtual std::string eos_token() const = 0;
  virtual const std::string& chat_template() const = 0;  // "" when the source has none
};

// Streaming decode, the algorithm of tokenizers' DecodeStream: each step
// decodes a short window of ids with and without the new id and returns the
// new text, or "" while the text so far ends in an incomplete character
// (U+FFFD), so a character spanning several tokens is never printed broken.
// Where DecodeStream raises InvalidPrefix (the window's text stops starting
// with the text it returned: byte-fallback tokens "A" + <0xE4> becoming two
// U+FFFD once the next token comes, or clean_up_tokenization_spaces turning
// " ." into "."), this resynchronizes instead: it returns what follows the
// longest common prefix and goes on, so ids inside the vocabulary never fail
// a stream midway.
class StreamDecoder {
 public:
  StreamDecoder(const Tokenizer& t, bool skip_special_tokens);
  std::string step(int32_t id);

 private:
  const Tokenizer& t_;
  bool skip_;
  std::vector<int32_t> ids_;
  size_t prefix_index_ = 0;
  std::string prefix_;
};

}  // namespace gp
