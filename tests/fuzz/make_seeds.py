#!/usr/bin/env python3
"""make_seeds.py: writes the text and HDF5 seeds of the fuzz targets (run by
hand with golden/'s venv, not by ctest; the seeds are committed):
tokenizer.json (+ tokenizer_config.json) pairs for tokenizer_json_fuzz, GGUF
tokenizer descriptions for gguf_tokenizer_fuzz, small golden .h5 files for
golden_fuzz, conversations for chat_fuzz and id sequences for
detokenize_fuzz (plus random recipes for golden_struct_fuzz), all cut from the golden files, the golden tiny models and
SmolLM2's GGUF. make_seeds.cpp writes the model-file seeds.
    .venv-golden/bin/python tests/fuzz/make_seeds.py tests/fuzz/seeds
"""
import json
import os
import struct
import sys

import h5py
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "golden", "models")
SMOL_GGUF = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
CONFIG_SEPARATOR = b"\n#tokenizer_config.json\n"  # tokenizer_json_fuzz.cpp
DETOK_ORDER = ["smollm2", "tiny-llama", "tiny-phi3"]  # detokenize_fuzz.cpp


def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    print(f"{path} ({len(data)} bytes)")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def small_smollm2_json(n_vocab):
    """SmolLM2's tokenizer.json cut to the first n_vocab ids and the merges among them."""
    j = json.loads(read(os.path.join(MODELS, "smollm2-tokenizer", "tokenizer.json")))
    vocab = {t: i for t, i in j["model"]["vocab"].items() if i < n_vocab}
    merges = []
    for m in j["model"]["merges"]:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    j["model"]["vocab"] = vocab
    j["model"]["merges"] = merges
    j["added_tokens"] = [t for t in j["added_tokens"] if t["id"] < n_vocab]
    return json.dumps(j, ensure_ascii=False).encode()


def tokenizer_json(out):
    d = os.path.join(out, "tokenizer_json_fuzz")
    for name in ["tiny-llama", "tiny-phi3"]:
        tj = read(os.path.join(MODELS, name, "tokenizer.json"))
        cfg = read(os.path.join(MODELS, name, "tokenizer_config.json"))
        put(os.path.join(d, f"{name}_with_config"), tj + CONFIG_SEPARATOR + cfg)
    put(os.path.join(d, "tiny-llama_alone"), read(os.path.join(MODELS, "tiny-llama", "tokenizer.json")))
    cfg = read(os.path.join(MODELS, "smollm2-tokenizer", "tokenizer_config.json"))
    put(os.path.join(d, "smollm2_first1000_with_config"), small_smollm2_json(1000) + CONFIG_SEPARATOR + cfg)
    tokenizer_json_variants(d)


def tokenizer_json_variants(d):
    """The tiny tokenizers with the other components goldpath reads swapped in
    (so the fuzzer starts from each of them): Metaspace, Split with every
    behavior, Digits, regex Replace, Strip, Roberta and Sequence
    post-processors, 'a b' merges, added-token flags, and the other
    tokenizer_config.json forms (added_tokens_decoder, named chat templates)."""
    phi3 = json.loads(read(os.path.join(MODELS, "tiny-phi3", "tokenizer.json")))
    phi3["normalizer"] = None
    phi3["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    phi3["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
        {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 1}]}
    phi3["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                  {"Sequence": {"id": "A", "type_id": 0}},
                                                  {"SpecialToken": {"id": "</s>", "type_id": 0}}],
         "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                            "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}]}
    phi3["model"]["merges"] = [" ".join(m) for m in phi3["model"]["merges"]]
    cfg = {"bos_token": {"content": "<s>", "special": True}, "eos_token": "</s>", "unk_token": "<unk>",
           "additional_special_tokens": ["<|user|>", {"content": "<|assistant|>", "lstrip": True}],
           "added_tokens_decoder": {"0": {"content": "<unk>", "special": True},
                                    "640": {"content": "<|user|>", "special": True, "rstrip": True},
                                    "641": {"content": "<|assistant|>", "special": True}},
           "chat_template": [{"name": "default", "template": "{{ messages }}"}, {"name": "tool_use", "template": "x"}],
           "clean_up_tokenization_spaces": True,
           "clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output": True}
    put(os.path.join(d, "tiny-phi3_metaspace_variant"),
        json.dumps(phi3, ensure_ascii=False).encode() + CONFIG_SEPARATOR + json.dumps(cfg).encode())

    llama = json.loads(read(os.path.join(MODELS, "tiny-llama", "tokenizer.json")))
    llama["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Replace", "pattern": {"Regex": "\\s{2,}"}, "content": " "},
        {"type": "Replace", "pattern": {"String": "\t"}, "content": "    "}]}
    behaviors = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]
    llama["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\p{P}"}, "behavior": b, "invert": i}
        for b, i in zip(behaviors, [False, True, False, True, False])] + [
        {"type": "Split", "pattern": {"String": "  "}, "behavior": "Removed", "invert": False},
        {"type": "Digits", "individual_digits": False},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False}]}
    llama["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"Regex": "x+"}, "content": "y"}, {"type": "ByteLevel"}]}
    llama["post_processor"] = {"type": "RobertaProcessing", "sep": ["<|im_end|>", 2], "cls": ["<|im_start|>", 1],
                               "trim_offsets": True, "add_prefix_space": False}
    llama["model"]["ignore_merges"] = True
    llama["added_tokens"].append({"id": 512, "content": "<x>", "single_word": True, "lstrip": True, "rstrip": True,
                                  "normalized": True, "special": False})
    put(os.path.join(d, "tiny-llama_split_variant"), json.dumps(llama, ensure_ascii=False).encode())


def esc(s):
    """gguf_tokenizer_fuzz.cpp's escapes"""
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def gguf_description(model, pre, arch, tokens, merges, bos, eos, unk=None, pad=None, add_bos=None, extra=()):
    """gguf_tokenizer_fuzz.cpp's line format; tokens: (type, score, text)."""
    lines = [f"model {model}"]
    if pre is not None:
        lines.append(f"pre {pre}")
    if arch is not None:
        lines.append(f"arch {arch}")
    for key, v in [("bos", bos), ("eos", eos), ("unk", unk), ("pad", pad), ("add_bos", add_bos)]:
        if v is not None:
            lines.append(f"{key} {v}")
    lines += [f"tok {ty} {sc:g} {esc(t)}" for ty, sc, t in tokens]
    lines += [f"merge {esc(m)}" for m in merges]
    lines += list(extra)
    return ("\n".join(lines) + "\n").encode()


def hf_tokens(name):
    """(type, score, text) by id from a tokenizer.json: added special tokens are control (3)."""
    j = json.loads(read(os.path.join(MODELS, name, "tokenizer.json")))
    by_id = {i: (1, -float(i), t) for t, i in j["model"]["vocab"].items()}
    for a in j["added_tokens"]:
        by_id[a["id"]] = (3 if a["special"] else 4, 0.0, a["content"])
    n = max(by_id) + 1
    tokens = [by_id.get(i, (1, 0.0, f"<unused{i}>")) for i in range(n)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    return tokens, merges


def gguf_tokenizer(out):
    d = os.path.join(out, "gguf_tokenizer_fuzz")
    texts = ["text Hello, world! 123", "text <|im_start|>user\\nhi<|im_end|>",
             "text \\xe4\\xbd\\xa0\\xe5\\xa5\\xbd \\xf0\\x9f\\x98\\x80"]
    tokens, merges = hf_tokens("tiny-llama")
    put(os.path.join(d, "tiny-llama_gpt2"),
        gguf_description("gpt2", "smollm", "llama", tokens, merges, 1, 2, extra=texts))
    tokens, merges = hf_tokens("tiny-phi3")
    put(os.path.join(d, "tiny-phi3_llama_merges"),
        gguf_description("llama", None, "phi3", tokens, merges, 1, 635, unk=0, pad=635, add_bos=1, extra=texts))
    put(os.path.join(d, "tiny-phi3_llama_scores"),
        gguf_description("llama", None, "llama", tokens, [], 1, 635, unk=0, add_bos=0, extra=texts + ["notypes"]))
    # the llama3 pre-tokenizer, user-defined tokens (type 4), add_eos, flags stored as integers
    tokens, merges = hf_tokens("tiny-llama")
    tokens = [(4 if t == "<think>" or t == "</think>" else ty, sc, t) for ty, sc, t in tokens]
    put(os.path.join(d, "tiny-llama_gpt2_llama3_pre"),
        gguf_description("gpt2", "llama-bpe", "llama", tokens, merges, 1, 2, pad=2, add_bos=2,
                         extra=texts + ["add_eos 1", "chat {% for m in messages %}{{ m }}{% endfor %}",
                                        "text <think>x</think>\\n\\t y"]))
    if os.path.exists(SMOL_GGUF):
        import gguf
        r = gguf.GGUFReader(SMOL_GGUF)
        f = r.fields
        n = 1200
        toks = [str(bytes(f["tokenizer.ggml.tokens"].parts[i]), "utf-8") for i in f["tokenizer.ggml.tokens"].data[:n]]
        types = [int(f["tokenizer.ggml.token_type"].parts[i][0]) for i in f["tokenizer.ggml.token_type"].data[:n]]
        kept = set(toks)
        merges = []
        for i in f["tokenizer.ggml.merges"].data:
            m = str(bytes(f["tokenizer.ggml.merges"].parts[i]), "utf-8")
            a, b = m.split(" ", 1)
            if a in kept and b in kept and a + b in kept:
                merges.append(m)
        scalar = lambda k: int(f[k].parts[f[k].data[0]][0])
        put(os.path.join(d, "smollm2_gguf_first1200"),
            gguf_description("gpt2", "smollm", "llama", [(ty, 0.0, t) for ty, t in zip(types, toks)], merges,
                             scalar("tokenizer.ggml.bos_token_id"), scalar("tokenizer.ggml.eos_token_id"),
                             unk=scalar("tokenizer.ggml.unknown_token_id"),
                             pad=scalar("tokenizer.ggml.padding_token_id"),
                             add_bos=0, extra=texts))


def copy_attrs(src, dst):
    for k, v in src.attrs.items():
        dst.attrs[k] = v


def golden(out):
    """Small golden files: the root attributes and a few groups of the real ones."""
    d = os.path.join(out, "golden_fuzz")
    os.makedirs(d, exist_ok=True)
    with h5py.File(os.path.join(ROOT, "golden", "tiny_llama.h5"), "r") as src:
        path = os.path.join(d, "tiny_llama_step1.h5")
        with h5py.File(path, "w", libver="earliest") as dst:
            copy_attrs(src, dst)
            g = dst.create_group("model")
            copy_attrs(src["model"], g)
            s = src["model/decode/1"]
            gd = g.create_group("decode/1")
            copy_attrs(s, gd)
            for name in ["embedding", "final_norm"]:
                src.copy(s[name], gd, name=name)
            src.copy(s["layers/0"], gd, name="layers/0")
            for name in src["model"]:
                obj = src["model"][name]
                if isinstance(obj, h5py.Dataset) and obj.size <= 4096:
                    src.copy(obj, g, name=name)
        print(f"{path} ({os.path.getsize(path)} bytes)")
    with h5py.File(os.path.join(ROOT, "golden", "tokenizers.h5"), "r") as src:
        path = os.path.join(d, "tokenizers_chat_phi3.h5")
        with h5py.File(path, "w", libver="earliest") as dst:
            copy_attrs(src, dst)
            c = dst.create_group("chat/phi3")
            copy_attrs(src["chat/phi3"], c)
            for name in sorted(src["chat/phi3"])[:2]:
                src.copy(src["chat/phi3"][name], c, name=name)
            t = dst.create_group("tokenizers/tiny-llama")
            s = src["tokenizers/tiny-llama"]
            copy_attrs(s, t)
            for name in ["decode_extra_ids", "decode_extra_ids_offsets", "decode_extra_names_bytes",
                         "decode_extra_names_offsets"]:
                src.copy(s[name], t, name=name)
        print(f"{path} ({os.path.getsize(path)} bytes)")


def strings(g, name):
    data = bytes(g[name + "_bytes"][()])
    off = g[name + "_offsets"][()]
    return [data[off[i]:off[i + 1]] for i in range(len(off) - 1)]


def chat(out):
    """flags, template, bos, eos, then role/content pairs, NUL-separated (chat_fuzz.cpp)."""
    d = os.path.join(out, "chat_fuzz")
    with h5py.File(os.path.join(ROOT, "golden", "tokenizers.h5"), "r") as f:
        for name in f["chat"]:
            base = f["chat"][name]
            head = [base.attrs[k].encode() for k in ["template", "bos_token", "eos_token"]]
            for conv in ["multi_turn_gen1", "system_multi_turn_gen0", "chinese_emoji_gen1"]:
                if conv not in base:
                    continue
                g = base[conv]
                fields = [bytes([int(g.attrs["add_generation_prompt"]) | 2])] + head
                for role, content in zip(strings(g, "roles"), strings(g, "contents")):
                    fields += [role, content]
                put(os.path.join(d, f"{name}_{conv}"), b"\0".join(fields))


def detokenize(out):
    """byte 0: the tokenizer, then ids as u32 little-endian (detokenize_fuzz.cpp)."""
    d = os.path.join(out, "detokenize_fuzz")
    with h5py.File(os.path.join(ROOT, "golden", "tokenizers.h5"), "r") as f:
        for idx, name in enumerate(DETOK_ORDER):
            g = f["tokenizers"][name]
            ids, off = g["ids_special"][()], g["ids_special_offsets"][()]
            lines = [ids[off[i]:off[i + 1]] for i in range(len(off) - 1)]
            # the lines with most distinct ids, and every hand-made decode sequence joined
            picks = sorted(range(len(lines)), key=lambda i: -len(set(lines[i].tolist())))[:3]
            for i in picks:
                put(os.path.join(d, f"{name}_line{i}"), bytes([idx]) + struct.pack(f"<{len(lines[i])}I", *lines[i]))
            extra = g["decode_extra_ids"][()]
            put(os.path.join(d, f"{name}_decode_extra"), bytes([idx]) + struct.pack(f"<{len(extra)}I", *extra))


def golden_struct(out):
    """Recipes for golden_struct_fuzz (read by FuzzedDataProvider: choices from
    the end, data and names from the front): random bytes of a few sizes from
    fixed seeds; every byte string is a valid recipe, and these build files
    with groups, datasets, attributes, ragged pairs and a manifest."""
    import random
    d = os.path.join(out, "golden_struct_fuzz")
    for seed, n in [(1, 64), (2, 256), (3, 1024), (4, 2048), (5, 4096)]:
        r = random.Random(seed)
        put(os.path.join(d, f"random_{n}"), bytes(r.randrange(256) for _ in range(n)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "fuzz", "seeds")
    tokenizer_json(out)
    gguf_tokenizer(out)
    golden(out)
    chat(out)
    detokenize(out)
    golden_struct(out)


if __name__ == "__main__":
    main()
