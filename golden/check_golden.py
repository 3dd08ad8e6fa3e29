#!/usr/bin/env python3
"""Check that golden/*.h5 hold everything golden/FORMAT.md promises.

Run by golden/make_golden.sh after make_golden.py; needs only h5py and numpy.
Exit status 1 with a list of problems if anything is missing or inconsistent.
"""

import hashlib
import json
import os
import sys

import h5py
import numpy as np

GOLDEN = os.path.dirname(os.path.abspath(__file__))
FILES = {
    "tiny_llama.h5": dict(tiny=True, model_dir="models/tiny-llama", goldpath_model="golden/models/tiny-llama"),
    "tiny_phi3.h5": dict(tiny=True, model_dir="models/tiny-phi3", goldpath_model="golden/models/tiny-phi3"),
    "smollm2_135m.h5": dict(tiny=False, model_dir=None, goldpath_model="default"),
}
ROOT_ATTRS = [
    "format_version", "oracle", "torch_version", "transformers_version", "model_id", "model_source",
    "dtype", "lowp_dtype", "seed", "prompt", "regenerate", "goldpath_model",
]
OPS = {
    # op: (inputs, attributes)
    "embedding": (["table", "ids"], []),
    "rmsnorm": (["x", "weight"], ["eps"]),
    "linear": (["x", "weight"], ["dtype", "n", "k"]),
    "rope": (["x", "positions"], ["theta"]),
    "attention": (["q", "k", "v"], ["q_pos0", "sliding_window"]),
    "swiglu": (["gate", "up"], []),
    "add": (["a", "b"], []),
    "softmax": (["x"], []),
}
ROW_BYTES = {  # bytes per K values, K a multiple of 32 for the block types
    "f32": lambda k: 4 * k, "f16": lambda k: 2 * k, "bf16": lambda k: 2 * k,
    "q8_0": lambda k: k // 32 * 34, "q4_0": lambda k: k // 32 * 18, "q4_1": lambda k: k // 32 * 20,
}
POINTS = ["attn_norm", "q", "k", "v", "attn_out", "ffn_norm", "ffn_out", "out"]
TOKENIZERS = {  # /tokenizers/<name>: goldpath_model, tokenizer_json, model folder with config.json
    "smollm2": ("default", "golden/models/smollm2-tokenizer", None),
    "tiny-llama": ("golden/models/tiny-llama", "golden/models/tiny-llama", "models/tiny-llama"),
    "tiny-phi3": ("golden/models/tiny-phi3", "golden/models/tiny-phi3", "models/tiny-phi3"),
}
FAMILIES = ["gpt-2", "mpt", "llama-bpe", "qwen2", "starcoder", "refact", "deepseek-coder", "deepseek-llm", "deepseek-v3",
            "falcon"]
FAMILY_TOKENIZERS = {  # tokenizer_families.h5: vocabulary-only GGUFs (and tokenizer.json for the byte-level ones)
    **{f"bpe-{n}": (f"golden/models/tok-{n}/vocab.gguf", f"golden/models/tok-{n}", None) for n in FAMILIES},
    "spm-bpe": ("golden/models/tok-spm-bpe/vocab.gguf", "", None),
    "spm-bpe-ws": ("golden/models/tok-spm-bpe-ws/vocab.gguf", "", None),
    "spm-bpe-json": ("golden/models/tok-spm-bpe-json", "golden/models/tok-spm-bpe-json", None),
}
TOKENIZER_ATTRS = [
    "goldpath_model", "tokenizer_json", "source", "tokenizer_class", "model_kind", "vocab_size", "bos_id", "bos_token",
    "eos_ids", "eos_token", "add_bos", "add_eos", "special_ids", "chat_template", "clean_up_tokenization_spaces", "n_lines",
]
TOKENIZERS_ROOT_ATTRS = [
    "format_version", "kind", "oracle", "torch_version", "transformers_version", "tokenizers_version", "jinja2_version",
    "seed", "regenerate", "corpus", "corpus_sha256", "model_sha256",
]
CHAT_TEMPLATES = ["smollm2", "phi3", "llama2", "llama3"]
CHAT_ATTRS = ["template", "bos_token", "eos_token", "source", "ids_tokenizer"]

problems = []


def need(cond, msg):
    if not cond:
        problems.append(msg)
    return cond


def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def check_float_out(ds):
    need(ds.dtype == np.float32, f"{ds.name}: dtype {ds.dtype}, want float32")
    for a in ("lowp_max_abs", "lowp_nmse"):
        if need(a in ds.attrs, f"{ds.name}: missing attribute {a}"):
            v = float(ds.attrs[a])
            need(np.isfinite(v) and v >= 0, f"{ds.name}: {a} = {v}")
    if ds.dtype == np.float32:
        need(np.all(np.isfinite(ds[()])), f"{ds.name}: non-finite values")


def check_ops(f):
    if not need("ops" in f, f"{f.filename}: no /ops"):
        return
    for op, (inputs, attrs) in OPS.items():
        if not need(op in f["ops"], f"{f.filename}: no /ops/{op}"):
            continue
        cases = f["ops"][op]
        need(len(cases) > 0, f"/ops/{op}: no cases")
        for name, g in cases.items():
            for i in inputs + ["out"]:
                need(i in g, f"{g.name}: missing {i}")
            for a in attrs:
                need(a in g.attrs, f"{g.name}: missing attribute {a}")
            if any(i not in g for i in inputs + ["out"]) or any(a not in g.attrs for a in attrs):
                continue
            out = g["out"]
            check_float_out(out)
            for i in inputs:
                d = g[i]
                want = np.uint8 if (op == "linear" and i == "weight") else (
                    np.int32 if i in ("ids", "positions") else np.float32)
                need(d.dtype == want, f"{d.name}: dtype {d.dtype}, want {np.dtype(want)}")
            sh = {i: g[i].shape for i in inputs}
            o = out.shape
            if op == "embedding":
                V, D = sh["table"]
                (T,) = sh["ids"]
                need(o == (T, D), f"{out.name}: shape {o}")
                ids = g["ids"][()]
                need(ids.min() >= 0 and ids.max() < V, f"{g.name}: ids out of range")
            elif op == "rmsnorm":
                need(sh["weight"] == (sh["x"][1],) and o == sh["x"], f"{g.name}: shapes {sh} {o}")
            elif op == "linear":
                dt, n, k = s(g.attrs["dtype"]), int(g.attrs["n"]), int(g.attrs["k"])
                if need(dt in ROW_BYTES, f"{g.name}: dtype {dt}"):
                    need(sh["weight"] == (n, ROW_BYTES[dt](k)), f"{g.name}: weight shape {sh['weight']} for {dt} n={n} k={k}")
                need(sh["x"][1] == k and o == (sh["x"][0], n), f"{g.name}: shapes {sh} {o}")
            elif op == "rope":
                T, H, hd = sh["x"]
                need(hd % 2 == 0 and sh["positions"] == (T,) and o == sh["x"], f"{g.name}: shapes {sh} {o}")
            elif op == "attention":
                T, Hq, hd = sh["q"]
                S, Hkv, hd2 = sh["k"]
                need(sh["v"] == sh["k"] and hd == hd2 and Hq % Hkv == 0 and o == sh["q"], f"{g.name}: shapes {sh} {o}")
                need(int(g.attrs["q_pos0"]) + T <= S, f"{g.name}: q_pos0 + T > S")
            elif op in ("swiglu", "add"):
                a, b = inputs
                need(sh[a] == sh[b] == o, f"{g.name}: shapes {sh} {o}")
            elif op == "softmax":
                need(o == sh["x"], f"{g.name}: shapes {sh} {o}")
                need(np.allclose(out[()].sum(-1), 1, atol=1e-5), f"{g.name}: rows do not sum to 1")


def check_acts(g, T, D, qdim, kvdim, layers):
    need(list(g.attrs.get("layers", [])) == layers, f"{g.name}: attribute layers {g.attrs.get('layers')} != {layers}")
    for p in ("embedding", "final_norm"):
        if need(p in g, f"{g.name}: missing {p}"):
            need(g[p].shape == (T, D), f"{g[p].name}: shape {g[p].shape} != {(T, D)}")
            check_float_out(g[p])
    if not need("layers" in g, f"{g.name}: missing layers/"):
        return
    need(sorted(int(x) for x in g["layers"]) == layers, f"{g.name}/layers: groups {list(g['layers'])} != {layers}")
    for i in layers:
        for p in POINTS:
            key = f"layers/{i}/{p}"
            if need(key in g, f"{g.name}: missing {key}"):
                want = (T, qdim) if p == "q" else (T, kvdim) if p in ("k", "v") else (T, D)
                need(g[key].shape == want, f"{g[key].name}: shape {g[key].shape} != {want}")
                check_float_out(g[key])


def model_dims(f, info):
    if info["model_dir"]:
        cfg = json.load(open(os.path.join(GOLDEN, info["model_dir"], "config.json")))
        hd = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
        return dict(D=cfg["hidden_size"], V=cfg["vocab_size"], n_layers=cfg["num_hidden_layers"],
                    qdim=cfg["num_attention_heads"] * hd, kvdim=cfg["num_key_value_heads"] * hd)
    return dict(D=576, V=49152, n_layers=30, qdim=576, kvdim=192)  # SmolLM2-135M


def check_model(f, info):
    if not need("model" in f, f"{f.filename}: no /model"):
        return
    m = f["model"]
    dims = model_dims(f, info)
    for k in ("prompt_ids", "generated_ids", "logits", "logits_topk_values", "logits_topk_ids", "prefill", "decode"):
        if not need(k in m, f"/model: missing {k}"):
            return
    for a in ("eos_ids", "max_new_tokens"):
        need(a in m.attrs, f"/model: missing attribute {a}")
    prompt, gen = m["prompt_ids"][()], m["generated_ids"][()]
    need(prompt.dtype == np.int32 and gen.dtype == np.int32, "/model: ids not int32")
    P, N = len(prompt), len(gen)
    eos = [int(x) for x in m.attrs["eos_ids"]]
    mx = int(m.attrs["max_new_tokens"])
    need(not any(int(x) in eos for x in gen[:-1]), "/model: EOS before the last generated token")
    need(int(gen[-1]) in eos or N == mx, f"/model: stopped at {N} without EOS (max_new_tokens {mx})")
    L = N if info["tiny"] else min(16, N)
    lg = m["logits"]
    need(lg.shape == (L, dims["V"]), f"/model/logits: shape {lg.shape} != {(L, dims['V'])}")
    check_float_out(lg)
    need(np.array_equal(np.argmax(lg[()], axis=-1), gen[:L]), "/model/logits: argmax != generated_ids")
    tv, ti = m["logits_topk_values"], m["logits_topk_ids"]
    need(tv.shape == (N, 64) and ti.shape == (N, 64), f"/model: topk shapes {tv.shape} {ti.shape}")
    check_float_out(tv)
    need(ti.dtype == np.int32, "/model/logits_topk_ids: not int32")
    need(np.array_equal(ti[:, 0], gen), "/model/logits_topk_ids[:,0] != generated_ids")
    need(np.all(np.diff(tv[()], axis=-1) <= 0), "/model/logits_topk_values not descending")
    rows = lg[()]
    need(np.array_equal(np.take_along_axis(rows, ti[:L], axis=-1), tv[:L]), "/model: topk values != logits at topk ids")
    layers = list(range(dims["n_layers"])) if info["tiny"] else [0, dims["n_layers"] // 2, dims["n_layers"] - 1]
    check_acts(m["prefill"], P, dims["D"], dims["qdim"], dims["kvdim"], layers)
    steps = list(range(1, N)) if info["tiny"] else [s_ for s_ in (1, 2) if s_ < N]
    need(sorted(int(x) for x in m["decode"]) == steps, f"/model/decode: steps {list(m['decode'])} != {steps}")
    need(list(m["decode"].attrs.get("steps", [])) == steps, "/model/decode: attribute steps")
    for s_ in steps:
        if str(s_) in m["decode"]:
            check_acts(m["decode"][str(s_)], 1, dims["D"], dims["qdim"], dims["kvdim"], layers)
    if info["tiny"]:
        if need("logits" in m["prefill"], "/model/prefill: missing logits"):
            pl = m["prefill/logits"]
            need(pl.shape == (P, dims["V"]), f"/model/prefill/logits: shape {pl.shape}")
            check_float_out(pl)
            need(np.array_equal(pl[-1], rows[0]), "/model/prefill/logits[-1] != /model/logits[0]")
    else:
        for a in ("text", "prompt_text", "chat_prompt"):
            need(a in m.attrs and len(s(m.attrs[a])) > 0, f"/model: missing attribute {a}")


def read_strings(g, name):
    """`<name>_bytes` (uint8) + `<name>_offsets` (int64, n+1) -> list of str, or None."""
    b, o = f"{name}_bytes", f"{name}_offsets"
    if not (need(b in g, f"{g.name}: missing {b}") and need(o in g, f"{g.name}: missing {o}")):
        return None
    data, off = g[b], g[o]
    ok = need(data.dtype == np.uint8 and data.ndim == 1, f"{data.name}: dtype {data.dtype}, want 1-d uint8")
    ok &= need(off.dtype == np.int64 and off.ndim == 1 and off.shape[0] >= 1, f"{off.name}: want 1-d int64")
    if not ok:
        return None
    raw, off = data[()].tobytes(), off[()]
    if not need(off[0] == 0 and off[-1] == len(raw) and np.all(np.diff(off) >= 0), f"{g.name}/{o}: bad offsets"):
        return None
    out = []
    for i in range(len(off) - 1):
        try:
            out.append(raw[off[i]:off[i + 1]].decode("utf-8"))
        except UnicodeDecodeError:
            need(False, f"{g.name}/{b}: string {i} is not valid UTF-8")
            return None
    return out


def read_ragged(g, name, limit=None):
    """`<name>` (int32) + `<name>_offsets` (int64, n+1) -> list of lists, or None."""
    o = f"{name}_offsets"
    if not (need(name in g, f"{g.name}: missing {name}") and need(o in g, f"{g.name}: missing {o}")):
        return None
    data, off = g[name], g[o]
    if not (need(data.dtype == np.int32 and data.ndim == 1, f"{data.name}: dtype {data.dtype}, want 1-d int32")
            and need(off.dtype == np.int64 and off.ndim == 1 and off.shape[0] >= 1, f"{off.name}: want 1-d int64")):
        return None
    flat, off = data[()], off[()]
    if not need(off[0] == 0 and off[-1] == len(flat) and np.all(np.diff(off) >= 0), f"{g.name}/{o}: bad offsets"):
        return None
    if limit is not None:
        need(flat.size == 0 or (flat.min() >= 0 and flat.max() < limit), f"{data.name}: ids outside [0, {limit})")
    return [flat[off[i]:off[i + 1]].tolist() for i in range(len(off) - 1)]


def read_corpus():
    data = open(os.path.join(GOLDEN, "tokenizer_corpus.jsonl"), "rb").read()
    return [json.loads(x) for x in data[:-1].split(b"\n")], hashlib.sha256(data).hexdigest()


def check_tokenizer_group(g, name, corpus, table):
    goldpath_model, tok_json, model_dir = table[name]
    for a in TOKENIZER_ATTRS:
        need(a in g.attrs, f"{g.name}: missing attribute {a}")
    if any(a not in g.attrs for a in TOKENIZER_ATTRS):
        return
    need(s(g.attrs["goldpath_model"]) == goldpath_model, f"{g.name}: goldpath_model")
    need(s(g.attrs["tokenizer_json"]) == tok_json, f"{g.name}: tokenizer_json")
    if tok_json:
        folder = os.path.join(os.path.dirname(GOLDEN), tok_json)
        for fn in ("tokenizer.json", "tokenizer_config.json"):
            need(os.path.exists(os.path.join(folder, fn)), f"{g.name}: {tok_json}/{fn} missing")
    if goldpath_model.endswith(".gguf"):
        need(os.path.exists(os.path.join(os.path.dirname(GOLDEN), goldpath_model)), f"{g.name}: {goldpath_model} missing")
    V = int(g.attrs["vocab_size"])
    bos = int(g.attrs["bos_id"])
    eos = [int(x) for x in g.attrs["eos_ids"]]
    need(-1 <= bos < V and all(0 <= x < V for x in eos), f"{g.name}: bos/eos ids outside the vocabulary")
    need(all(0 <= int(x) < V for x in g.attrs["special_ids"]), f"{g.name}: special_ids outside the vocabulary")
    if model_dir:
        cfg = json.load(open(os.path.join(GOLDEN, model_dir, "config.json")))
        need(cfg["vocab_size"] == V, f"{g.name}: vocab_size {V} != {model_dir}/config.json {cfg['vocab_size']}")
        need(cfg["bos_token_id"] == bos and [cfg["eos_token_id"]] == eos, f"{g.name}: bos/eos differ from config.json")
    n = int(g.attrs["n_lines"])
    need(n == len(corpus), f"{g.name}: n_lines {n} != corpus lines {len(corpus)}")
    lines = read_strings(g, "corpus")
    need(lines == corpus, f"{g.name}/corpus differs from golden/tokenizer_corpus.jsonl")
    special, plain = read_ragged(g, "ids_special", V), read_ragged(g, "ids_plain", V)
    if special is not None and plain is not None and need(len(special) == len(plain) == n, f"{g.name}: ids count"):
        pre = [bos] if int(g.attrs["add_bos"]) else []
        post = eos[:1] if int(g.attrs["add_eos"]) else []
        need(all(a == pre + b + post for a, b in zip(special, plain)),
             f"{g.name}: ids_special != bos? + ids_plain + eos? (add_bos/add_eos)")
    for name_ in ("decode", "decode_skip"):
        x = read_strings(g, name_)
        need(x is not None and len(x) == n, f"{g.name}/{name_}: want {n} strings")
    chunks = read_strings(g, "stream")
    if chunks is not None and plain is not None and need("stream_step" in g and "stream_line_offsets" in g,
                                                         f"{g.name}: missing stream_step / stream_line_offsets"):
        st, lo = g["stream_step"], g["stream_line_offsets"]
        need(st.dtype == np.int32 and st.shape == (len(chunks),), f"{st.name}: want int32 ({len(chunks)},)")
        need(lo.dtype == np.int64 and lo.shape == (n + 1,), f"{lo.name}: want int64 ({n + 1},)")
        if st.shape == (len(chunks),) and lo.shape == (n + 1,):
            st, lo = st[()], lo[()]
            need(lo[0] == 0 and lo[-1] == len(chunks) and np.all(np.diff(lo) >= 0), f"{g.name}: stream_line_offsets")
            for i in range(n):
                steps = st[lo[i]:lo[i + 1]]
                if not need(np.all(np.diff(steps) > 0) and np.all((steps >= 0) & (steps < len(plain[i]))),
                            f"{g.name}: stream steps of line {i} not increasing within its ids"):
                    break
                need(all(len(c) > 0 for c in chunks[lo[i]:lo[i + 1]]), f"{g.name}: empty stream chunk in line {i}")
    names = read_strings(g, "decode_extra_names")
    ids = read_ragged(g, "decode_extra_ids", V)
    d, ds = read_strings(g, "decode_extra"), read_strings(g, "decode_extra_skip")
    if None not in (names, ids, d, ds):
        need(len(names) == len(ids) == len(d) == len(ds) >= 15, f"{g.name}: decode_extra counts differ or too few")


def check_chat(f):
    if not need("chat" in f, f"{f.filename}: no /chat"):
        return
    for t in CHAT_TEMPLATES:
        if not need(t in f["chat"], f"/chat: missing {t}"):
            continue
        g = f["chat"][t]
        for a in CHAT_ATTRS:
            need(a in g.attrs, f"{g.name}: missing attribute {a}")
        need(len(s(g.attrs.get("template", ""))) > 0, f"{g.name}: empty template")
        errors = rendered = 0
        for cname, c in g.items():
            for a in ("add_generation_prompt", "error"):
                need(a in c.attrs and int(c.attrs[a]) in (0, 1), f"{c.name}: attribute {a} missing or not 0/1")
            roles, contents = read_strings(c, "roles"), read_strings(c, "contents")
            if roles is not None and contents is not None:
                need(len(roles) == len(contents) > 0, f"{c.name}: roles/contents counts")
                need(set(roles) <= {"system", "user", "assistant"}, f"{c.name}: roles {roles}")
            if int(c.attrs.get("error", 0)):
                errors += 1
                need("rendered" not in c and "error_message" in c.attrs, f"{c.name}: refusal case with rendered text")
                continue
            rendered += 1
            if need("rendered" in c, f"{c.name}: missing rendered"):
                r = c["rendered"]
                need(r.dtype == np.uint8 and r.ndim == 1 and r.shape[0] > 0, f"{r.name}: want non-empty 1-d uint8")
                try:
                    r[()].tobytes().decode("utf-8")
                except UnicodeDecodeError:
                    need(False, f"{r.name}: not valid UTF-8")
            if s(g.attrs.get("ids_tokenizer", "")):
                need("ids" in c and c["ids"].dtype == np.int32, f"{c.name}: missing int32 ids")
        need(rendered >= 8, f"{g.name}: only {rendered} rendered cases")
        need(errors <= 1, f"{g.name}: {errors} refusal cases")
    need(sum(int(c.attrs.get("error", 0)) for t in CHAT_TEMPLATES if t in f["chat"] for c in f["chat"][t].values()) >= 1,
         "/chat: no refusal case")


def check_tokenizers_file(fname, table=TOKENIZERS, chat=True):
    path = os.path.join(GOLDEN, fname)
    if not need(os.path.exists(path), f"missing {fname}"):
        return
    before = len(problems)
    corpus, corpus_sha = read_corpus()
    with h5py.File(path, "r") as f:
        for a in TOKENIZERS_ROOT_ATTRS:
            need(a in f.attrs, f"{fname}: missing root attribute {a}")
        if all(a in f.attrs for a in TOKENIZERS_ROOT_ATTRS):
            need(int(f.attrs["format_version"]) == 1, f"{fname}: format_version")
            need(s(f.attrs["kind"]) == "tokenizers", f"{fname}: kind")
            need(s(f.attrs["regenerate"]) == "bash golden/make_golden.sh", f"{fname}: regenerate")
            need(s(f.attrs["corpus_sha256"]) == corpus_sha, f"{fname}: corpus_sha256 != golden/tokenizer_corpus.jsonl")
        need("model" not in f and "ops" not in f, f"{fname}: has /model or /ops")
        if need("tokenizers" in f, f"{fname}: no /tokenizers"):
            need(sorted(f["tokenizers"]) == sorted(table), f"/tokenizers: groups {list(f['tokenizers'])}")
            for name in table:
                if name in f["tokenizers"]:
                    check_tokenizer_group(f["tokenizers"][name], name, corpus, table)
        if chat:
            check_chat(f)
        check_no_timestamps(f)
    print(f"{fname}: {'ok' if len(problems) == before else 'PROBLEMS'}")


def check_no_timestamps(f):
    def visit(name, obj):
        i = h5py.h5o.get_info(obj.id)
        need(i.ctime == i.mtime == i.atime == i.btime == 0, f"{obj.name}: has timestamps")

    visit("/", f)
    f.visititems(visit)


def main():
    for fname, info in FILES.items():
        path = os.path.join(GOLDEN, fname)
        if not need(os.path.exists(path), f"missing {fname}"):
            continue
        before = len(problems)
        with h5py.File(path, "r") as f:
            for a in ROOT_ATTRS:
                need(a in f.attrs, f"{fname}: missing root attribute {a}")
            if all(a in f.attrs for a in ROOT_ATTRS):
                need(int(f.attrs["format_version"]) == 1, f"{fname}: format_version")
                need(s(f.attrs["oracle"]) == "transformers", f"{fname}: oracle")
                need(s(f.attrs["dtype"]) == "float32", f"{fname}: dtype")
                need(s(f.attrs["lowp_dtype"]) in ("float16", "bfloat16"), f"{fname}: lowp_dtype")
                need(s(f.attrs["goldpath_model"]) == info["goldpath_model"], f"{fname}: goldpath_model")
                need(s(f.attrs["regenerate"]) == "bash golden/make_golden.sh", f"{fname}: regenerate")
            check_ops(f)
            check_model(f, info)
            check_no_timestamps(f)
        print(f"{fname}: {'ok' if len(problems) == before else 'PROBLEMS'}")
    check_tokenizers_file("tokenizers.h5")
    check_tokenizers_file("tokenizer_families.h5", FAMILY_TOKENIZERS, chat=False)
    size = 0
    for dp, _dn, fns in os.walk(GOLDEN):
        size += sum(os.path.getsize(os.path.join(dp, x)) for x in fns)
    need(size < 30e6, f"golden/ is {size / 1e6:.1f} MB (limit 30 MB)")
    print(f"golden/: {size / 1e6:.1f} MB")
    for p in problems:
        print("problem:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
