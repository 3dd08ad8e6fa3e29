// json_depth.h: a callback for nlohmann::json::parse that refuses nesting
// deeper than any real file has (config.json, tokenizer.json and safetensors
// headers nest a handful of levels). nlohmann parses iteratively, but its dump
// and copy recurse once per level, so a file of a million '[' would overflow
// the stack later; here it is a gp::Error naming the file.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace gp {

constexpr int kMaxJsonDepth = 64;

// json::parse(text, json_depth_limit(path))
inline nlohmann::json::parser_callback_t json_depth_limit(const std::string& path) {
  return [path](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    GP_CHECK(depth <= kMaxJsonDepth, path, ": JSON nested deeper than ", kMaxJsonDepth, " levels");
    return true;
  };
}

}  // namespace gp
