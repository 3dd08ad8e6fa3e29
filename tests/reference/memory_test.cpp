// memory_test.cpp: the reference backend under the host memory cap
// (core/memory.h): a forward whose KV cache and scratch would not fit fails
// before it touches any state, naming each part and the limit; with the cap
// raised the same backend carries on and gives the logits a fresh one gives.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/memory.h"
#include "core/model.h"
#include "reference/model.h"

namespace gp {
namespace {

const std::string kTinyLlama = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/tiny-llama";

struct ResetCap {
  ~ResetCap() { set_host_memory_limit(0); }
};

TEST(ReferenceMemory, LongPrefillOverTheCapFailsThenCarriesOn) {
  auto m = load_model(kTinyLlama);
  const int64_t V = m->cfg.vocab_size;
  const std::vector<int32_t> ids(100, 7);  // 100 tokens: ~350 KiB of scratch, 50 KiB of KV cache
  std::vector<float> got(V), want(V);
  ref::ReferenceBackend be(*m);
  {
    ResetCap reset;
    set_host_memory_limit(m->weight_bytes() + 64 * 1024);
    std::string msg;
    try {
      be.forward(ids.data(), (int)ids.size(), 0, got.data(), false);
    } catch (const Error& e) {
      msg = e.what();
    }
    for (const char* part : {"reference", "100 tokens", "over the host memory limit", "--max-host-memory"})
      EXPECT_NE(msg.find(part), std::string::npos) << "no '" << part << "' in: " << msg;
    // a short forward still fits
    be.forward(ids.data(), 1, 0, got.data(), false);
    be.reset();
  }
  be.forward(ids.data(), (int)ids.size(), 0, got.data(), false);
  ref::ReferenceBackend fresh(*m);
  fresh.forward(ids.data(), (int)ids.size(), 0, want.data(), false);
  EXPECT_EQ(std::memcmp(got.data(), want.data(), V * sizeof(float)), 0);
}

}  // namespace
}  // namespace gp
