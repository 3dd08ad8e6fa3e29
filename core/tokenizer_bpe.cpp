// tokenizer_bpe.cpp: the BPE model of Hugging Face tokenizers
// (tokenizers/src/models/bpe/{model,word}.rs): a word starts as one symbol
// per character (unknown characters become <0xNN> byte tokens with
// byte_fallback, else the unk token, fused when fuse_unk), then the pair with
// the lowest merge rank is merged, leftmost first, until no pair has a merge.
// Also transformers' generate_merges, which rebuilds merges from scores.
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

void Bpe::tokenize(const std::string& w, std::vector<int32_t>& out) const {
  if (w.empty()) return;
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

// transformers tokenization_utils_base.generate_merges with scores: every way
// to cut each token in two known tokens, ordered by the token's score (higher
// first), then longer left part, then longer right part; ties keep the order
// of the vocabulary, and within one token the order of (left id, right id)
std::vector<std::pair<std::string, std::string>> merges_from_scores(const std::vector<std::string>& tokens,
                                                                    const std::vector<double>& scores) {
  std::unordered_map<std::string, int32_t> vocab;  // a repeated token keeps its last id, as a dict does
  std::unordered_map<std::string, size_t> first;   // ... and its first position and last score
  std::vector<size_t> order;
  std::vector<double> score_of(tokens.size());
  for (size_t k = 0; k < tokens.size(); ++k) {
    vocab[tokens[k]] = (int32_t)k;
    auto [it, fresh] = first.emplace(tokens[k], k);
    if (fresh) order.push_back(k);
    score_of[it->second] = scores[k];
  }
  struct M {
    size_t left_len, right_len;  // in code points
    double score;
    std::string a, b;
  };
  std::vector<M> all;
  for (size_t k : order) {
    const std::string& t = tokens[k];
    std::vector<std::pair<std::pair<int32_t, int32_t>, M>> local;
    size_t cps = 0;
    for (size_t i = 0; i < t.size();) {
      i += std::min(utf8_len((unsigned char)t[i]), t.size() - i);
      ++cps;
      if (i >= t.size()) break;
      const std::string a = t.substr(0, i), b = t.substr(i);
      auto ia = vocab.find(a), ib = vocab.find(b);
      if (ia != vocab.end() && ib != vocab.end())
        local.push_back({{ia->second, ib->second}, M{cps, 0, score_of[k], a, b}});
    }
    const size_t total = cps;
    std::stable_sort(local.begin(), local.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& [ids, m] : local) {
      m.right_len = total - m.left_len;
      all.push_back(std::move(m));
    }
  }
  // Python's sorted(reverse=True) is stable: equal keys keep their order
  std::stable_sort(all.begin(), all.end(), [](const M& x, const M& y) {
    if (x.score != y.score) return x.score > y.score;
    if (x.left_len != y.left_len) return x.left_len > y.left_len;
    return x.right_len > y.right_len;
  });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(all.size());
  for (auto& m : all) out.emplace_back(std::move(m.a), std::move(m.b));
  return out;
}

}  // namespace tok
}  // namespace gp
