#!/usr/bin/env python3
"""Check that golden/*.h5 hold everything golden/FORMAT.md promises.

Run by golden/make_golden.sh after make_golden.py; needs only h5py and numpy.
Exit status 1 with a list of problems if anything is missing or inconsistent.
"""

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
        for a in ("text", "prompt_text"):
            need(a in m.attrs and len(s(m.attrs[a])) > 0, f"/model: missing attribute {a}")


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
