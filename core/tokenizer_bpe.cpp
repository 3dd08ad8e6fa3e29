// tokenizer_bpe.cpp: the BPE model of Hugging Face tokenizers
// (tokenizers/src/models/bpe/{model,word}.rs): a word starts as one symbol
// per character (unknown characters become <0xNN> byte tokens with
// byte_fallback, else the unk token, fused when fuse_unk), then the pair with
// the lowest merge rank is merged, leftmost first, until no pair has a merge.
// And SentencePiece's BPE by score (Bpe::set_scores), as sentencepiece and llama.cpp run it.
#include <algorithm>
#include <cstdio>
#include <queue>

#include "core/error.h"
#include "core/memory.h"
#include "core/quote.h"
#include "core/tokenizer_internal.h"

namespace gp {
namespace tok {

namespace {
uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }
}  // namespace

Bpe::Bpe(std::unordered_map<std::string, int32_t> vocab,
         const std::vector<std::pair<std::string, std::string>>& merges, const std::string& where)
    : vocab_(std::move(vocab)) {
  int32_t max_id = -1;
  for (const auto& [t, id] : vocab_) {
    GP_CHECK(id >= 0 && id < (1 << 30), where, ": token ", quote(t), " has id ", id, " outside [0, 2^30)");
    max_id = std::max(max_id, id);
  }
  // ids, not the number of tokens, size the reverse table: one huge id is a huge table
  check_host_alloc((int64_t)max_id + 1, (int64_t)sizeof(std::string) + 1,
                   str(where, ": vocabulary table for ids up to ", max_id));
  vocab_r_.assign((size_t)(max_id + 1), std::string());
  present_.assign((size_t)(max_id + 1), false);
  for (const auto& [t, id] : vocab_) {
    vocab_r_[(size_t)id] = t;
    present_[(size_t)id] = true;
  }
  merges_.reserve(merges.size() * 2);
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    const int32_t ia = id(a), ib = id(b), in = id(a + b);
    GP_CHECK(ia >= 0, where, ": merge ", r, " (", quote(a), " ", quote(b), ") names ", quote(a),
             ", which is not in the vocabulary");
    GP_CHECK(ib >= 0, where, ": merge ", r, " (", quote(a), " ", quote(b), ") names ", quote(b),
             ", which is not in the vocabulary");
    GP_CHECK(in >= 0, where, ": merge ", r, " (", quote(a), " ", quote(b), ") makes ", quote(a + b),
             ", which is not in the vocabulary");
    merges_[pair_key(ia, ib)] = {(int32_t)r, in};  // a repeated merge keeps its last rank, as tokenizers does
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[b] = id(name);
  }
}

int32_t Bpe::id(const std::string& token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

const std::string* Bpe::token(int32_t id) const {
  if (id < 0 || (size_t)id >= vocab_r_.size() || !present_[(size_t)id]) return nullptr;
  return &vocab_r_[(size_t)id];
}

void Bpe::set_scores(std::vector<float> scores) {
  GP_CHECK(scores.size() >= vocab_r_.size(), "tokenizer: ", scores.size(), " scores for ", vocab_r_.size(), " token ids");
  scores_ = std::move(scores);
}

void Bpe::tokenize_by_score(const std::string& w, std::vector<int32_t>& out) const {
  // symbols: byte ranges of w in a linked list; a merged-away symbol has len 0
  struct Sym {
    size_t start, len;
    int prev, next;
  };
  std::vector<Sym> sym;
  for (size_t i = 0; i < w.size();) {
    const size_t n = std::min(utf8_len((unsigned char)w[i]), w.size() - i);
    const int k = (int)sym.size();
    sym.push_back({i, n, k - 1, k + 1});
    i += n;
  }
  if (sym.empty()) return;
  sym.back().next = -1;
  struct Pair {
    float score;
    int left, right;
    size_t len;  // of the merged text: a pair whose symbols changed since is stale
    bool operator<(const Pair& o) const {  // max-heap on score, then the leftmost
      return score != o.score ? score < o.score : left > o.left;
    }
  };
  std::priority_queue<Pair> q;
  auto try_pair = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const size_t len = sym[(size_t)l].len + sym[(size_t)r].len;
    const int32_t t = id(w.substr(sym[(size_t)l].start, len));
    if (t >= 0) q.push({scores_[(size_t)t], l, r, len});
  };
  for (size_t k = 0; k + 1 < sym.size(); ++k) try_pair((int)k, (int)k + 1);
  while (!q.empty()) {
    const Pair p = q.top();
    q.pop();
    Sym &l = sym[(size_t)p.left], &r = sym[(size_t)p.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != p.len || l.next != p.right) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (l.next >= 0) sym[(size_t)l.next].prev = p.left;
    try_pair(l.prev, p.left);
    try_pair(p.left, l.next);
  }
  const int32_t unk_id = has_unk ? id(unk_token) : -1;
  bool prev_unk = false;  // consecutive unknown characters make one unk when fuse_unk
  for (const Sym& s : sym) {
    if (s.len == 0) continue;
    const std::string text = w.substr(s.start, s.len);
    const int32_t t = id(text);
    bool all = t < 0 && byte_fallback;
    for (unsigned char b : text) all = all && byte_ids_[b] >= 0;
    if (t >= 0) {
      out.push_back(t);
    } else if (all) {
      for (unsigned char b : text) out.push_back(byte_ids_[b]);
    } else if (has_unk) {
      GP_CHECK(unk_id >= 0, "tokenizer: the unk token ", quote(unk_token), " is not in the vocabulary");
      if (!(fuse_unk && prev_unk)) out.push_back(unk_id);
    }
    prev_unk = t < 0 && !all && has_unk;
  }
}

void Bpe::tokenize(const std::string& w, std::vector<int32_t>& out) const {
  if (w.empty()) return;
  if (by_score()) {
    tokenize_by_score(w, out);
    return;
  }
  if (ignore_merges) {
    const int32_t whole = id(w);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  // symbols: ids in a doubly linked list (removed ones have len 0)
  struct Sym {
    int32_t c;
    int prev, next;
    bool alive;
  };
  std::vector<Sym> sym;
  sym.reserve(w.size());
  auto push = [&](int32_t c) {
    const int k = (int)sym.size();
    sym.push_back({c, k - 1, k + 1, true});
  };
  int32_t unk = -1;
  const int32_t unk_id = has_unk ? id(unk_token) : -1;
  bool unk_pending = false;
  for (size_t i = 0; i < w.size();) {
    const size_t n = std::min(utf8_len((unsigned char)w[i]), w.size() - i);
    const std::string ch = w.substr(i, n);
    i += n;
    const int32_t c = id(ch);
    if (c >= 0) {
      if (unk_pending) push(unk);
      unk_pending = false;
      push(c);
      continue;
    }
    if (byte_fallback) {
      bool all = true;
      for (unsigned char b : ch) all = all && byte_ids_[b] >= 0;
      if (all) {  // (a pending unk stays pending, as in tokenizers)
        for (unsigned char b : ch) push(byte_ids_[b]);
        continue;
      }
    }
    if (has_unk) {
      GP_CHECK(unk_id >= 0, "tokenizer: the unk token ", quote(unk_token), " is not in the vocabulary");
      if (unk_pending && !fuse_unk) push(unk);
      unk = unk_id;
      unk_pending = true;
    }
  }
  if (unk_pending) push(unk);
  if (sym.empty()) return;
  sym.back().next = -1;

  struct Merge {
    int32_t rank;
    int pos;
    int32_t new_id;
    bool operator<(const Merge& o) const {  // min-heap on (rank, pos)
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  auto lookup = [&](int32_t a, int32_t b) -> const std::pair<int32_t, int32_t>* {
    auto it = merges_.find(pair_key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  std::priority_queue<Merge> q;
  for (size_t k = 0; k + 1 < sym.size(); ++k)
    if (auto m = lookup(sym[k].c, sym[k + 1].c)) q.push({m->first, (int)k, m->second});
  while (!q.empty()) {
    const Merge top = q.top();
    q.pop();
    Sym& cur = sym[(size_t)top.pos];
    if (!cur.alive || cur.next < 0) continue;
    Sym& right = sym[(size_t)cur.next];
    auto m = lookup(cur.c, right.c);
    if (!m || m->second != top.new_id) continue;  // stale entry
    cur.c = top.new_id;
    right.alive = false;
    cur.next = right.next;
    if (cur.next >= 0) sym[(size_t)cur.next].prev = top.pos;
    if (cur.prev >= 0)
      if (auto p = lookup(sym[(size_t)cur.prev].c, cur.c)) q.push({p->first, cur.prev, p->second});
    if (cur.next >= 0)
      if (auto p = lookup(cur.c, sym[(size_t)cur.next].c)) q.push({p->first, top.pos, p->second});
  }
  for (const auto& s : sym)
    if (s.alive) out.push_back(s.c);
}

}  // namespace tok
}  // namespace gp
