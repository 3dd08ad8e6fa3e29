#!/usr/bin/env python3
"""make_samples.py: the constructed GPU sample records of reports/samples/.

No CUDA backend measured these: they are modelled numbers (roofline ceilings
of the devices, a plausible fraction of them achieved, 1-2 % run-to-run noise
from a seeded RNG) that show the bench record format (reports/FORMAT.md) and
what `goldpath report` / `goldpath compare` do with GPU records. Every record
says so with "sample": true in its environment. Standard library only:

    python3 reports/samples/make_samples.py   # rewrites the *-sample.json records here
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
COMMIT_A = "5a0c1e7d9b3f4a2c8e6d1f0b7a9c3e5d2b4f6a81"
COMMIT_B = "c37e9a1f5d2b8c4e0a6f3d9b1c7e5a2f8d4b0e93"

# synthetic:phi-3-mini:q4_0: Phi-3-mini shapes, random weights
MODEL = {"spec": "synthetic:phi-3-mini:q4_0", "name": "phi-3-mini", "arch": "phi3", "weight_dtype": "q4_0",
         "params": 3821079552, "weight_bytes": 2281701376, "sha256": None,
         "synthetic": {"preset": "phi-3-mini", "seed": 0, "shapes_of": "microsoft/Phi-3-mini-4k-instruct"}}
KV_BYTES_PER_TOKEN = 32 * 2 * 3072 * 2  # layers * (k, v) * hidden * fp16
DIM, FF, VOCAB = 3072, 8192, 32064

GPUS = {
    "t4": {"gpu": {"name": "Tesla T4", "compute_capability": "7.5", "sm_count": 40, "memory_bytes": 15828320256,
                   "driver_version": "580.95.05", "cuda_runtime_version": "13.0",
                   "clocks_start": {"sm_mhz": 1590, "mem_mhz": 5000}, "clocks_end": {"sm_mhz": 1350, "mem_mhz": 5000},
                   "temperature_start": 41, "temperature_end": 67},
           "bw": 2.41e11, "flops": 4.4e13, "decode_eff": 0.68, "prefill_tps": 1450.0, "cpu": "Intel(R) Xeon(R) CPU @ 2.20GHz"},
    "h200": {"gpu": {"name": "NVIDIA H200", "compute_capability": "9.0", "sm_count": 132, "memory_bytes": 150754820096,
                     "driver_version": "580.95.05", "cuda_runtime_version": "13.0",
                     "clocks_start": {"sm_mhz": 1980, "mem_mhz": 3201}, "clocks_end": {"sm_mhz": 1980, "mem_mhz": 3201},
                     "temperature_start": 33, "temperature_end": 46},
             "bw": 4.05e12, "flops": 6.6e14, "decode_eff": 0.24, "prefill_tps": 24800.0,
             "cpu": "Intel(R) Xeon(R) Platinum 8480+"},
}


def summary(samples):
    s = sorted(samples)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    mean = sum(s) / n
    sd = (sum((x - mean) ** 2 for x in s) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return {"median": med, "mean": mean, "stddev": sd, "min": s[0], "max": s[-1]}


def row(backend, metric, pl, depth, unit, hib, samples):
    r = {"backend": backend, "metric": metric, "prompt_length": pl, "depth": depth, "unit": unit,
         "higher_is_better": hib, "samples": samples}
    r.update(summary(samples))
    return r


def percentile(v, q):
    s = sorted(v)
    pos = q / 100 * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (pos - lo) * (s[hi] - s[lo])


def make(key, commit, created, seed, decode_slowdown_at=None):
    g = GPUS[key]
    rng = random.Random(seed)
    reps, prompts, depths, gen = 9, [128, 512, 2048], [0, 512, 2048], 128
    noise = lambda: rng.gauss(1.0, 0.012)  # noqa: E731
    res = []
    for p in prompts:
        # prefill slows a little with length (attention is quadratic)
        tps = [g["prefill_tps"] * (1 - 0.08 * p / 2048) * noise() for _ in range(reps)]
        res.append(row("cuda", "prefill_tokens_per_s", p, None, "tokens/s", True, tps))
        res.append(row("cuda", "ttft_ms", p, None, "ms", False, [1000 * p / t + 0.4 * noise() for t in tps]))
    for d in depths:
        ceiling = g["bw"] / (MODEL["weight_bytes"] + KV_BYTES_PER_TOKEN * d)
        slow = 0.9 if decode_slowdown_at is not None and d >= decode_slowdown_at else 1.0
        tps, p50, p90, p99 = [], [], [], []
        for _ in range(reps):
            lat = [1000 / (ceiling * g["decode_eff"] * slow) * rng.lognormvariate(0, 0.03) for _ in range(gen)]
            tps.append(1000 * gen / sum(lat))
            p50.append(percentile(lat, 50))
            p90.append(percentile(lat, 90))
            p99.append(percentile(lat, 99))
        res.append(row("cuda", "decode_tokens_per_s", None, d, "tokens/s", True, tps))
        res.append(row("cuda", "token_latency_ms_p50", None, d, "ms", False, p50))
        res.append(row("cuda", "token_latency_ms_p90", None, d, "ms", False, p90))
        res.append(row("cuda", "token_latency_ms_p99", None, d, "ms", False, p99))
        res.append(row("cuda", "decode_efficiency", None, d, "fraction", True, [t / ceiling for t in tps]))
    ctx = max(prompts) + max(depths) + gen
    weights = MODEL["weight_bytes"] + 2 * VOCAB * DIM  # + fp16 lm head copy for the GEMM path
    breakdown = {"weights": weights, "kv_cache": KV_BYTES_PER_TOKEN * ctx,
                 "activations": max(prompts) * (DIM * 6 + FF * 4) * 2 + max(prompts) * VOCAB * 4,
                 "workspace": 64 << 20, "context": 312 << 20}
    planned = sum(breakdown.values())
    peak = planned + (18 << 20)
    res.append(row("cuda", "peak_memory_bytes", None, None, "bytes", False, [float(peak)] * reps))
    budget = 15 * 1024 ** 3 if key == "t4" else None

    def op(name, shape, nbytes, flops, eff_bw, eff_fl):
        t = max(nbytes / (g["bw"] * eff_bw), flops / (g["flops"] * eff_fl)) + 3e-6  # + launch overhead
        ts = [t * noise() for _ in range(reps)]
        s = summary(ts)
        return {"backend": "cuda", "op": name, "shape": shape, "bytes": nbytes, "flops": flops,
                "time_s": {"median": s["median"], "stddev": s["stddev"], "samples": ts},
                "gbps": nbytes / s["median"] / 1e9, "gflops": flops / s["median"] / 1e9,
                "fraction_of_bandwidth": nbytes / s["median"] / g["bw"],
                "fraction_of_flops": flops / s["median"] / g["flops"]}

    q4 = 0.5625  # q4_0: 18 bytes per 32 weights
    ops = [
        op("rmsnorm", "1x3072", DIM * 2 * 2 + DIM * 2, 4 * DIM, 0.05, 0.01),
        op("rmsnorm", "512x3072", 512 * DIM * 4 + DIM * 2, 4 * 512 * DIM, 0.7, 0.05),
        op("rope", "512x32x96", 512 * DIM * 2 * 2 * 2, 6 * 512 * DIM, 0.6, 0.05),
        op("linear_q4_0", "1x3072->9216 (qkv, decode)", int(DIM * 3 * DIM * q4) + DIM * 2, 2 * DIM * 3 * DIM, 0.75, 0.1),
        op("linear_q4_0", "1x3072->16384 (gate_up, decode)", int(DIM * 2 * FF * q4), 2 * DIM * 2 * FF, 0.78, 0.1),
        op("linear_q4_0", "512x3072->9216 (qkv, prefill)", int(DIM * 3 * DIM * q4) + 512 * DIM * 8, 2 * 512 * DIM * 3 * DIM, 0.5, 0.55),
        op("attention", "decode, depth 2048", 2048 * 2 * DIM * 2, 4 * 2048 * DIM, 0.55, 0.05),
        op("attention", "prefill, 512 tokens", 512 * DIM * 2 * 4, 2 * 512 * 512 * DIM * 2, 0.3, 0.35),
        op("swiglu", "512x8192", 512 * FF * 2 * 3, 4 * 512 * FF, 0.7, 0.05),
        op("lm_head", "1x3072->32064 (fp16)", VOCAB * DIM * 2, 2 * VOCAB * DIM, 0.8, 0.1),
    ]
    env = {"cpu": g["cpu"], "cpu_threads": 16, "os": "Linux 6.8.0 x86_64", "compiler": "13.2.0",
           "build_type": "Release", "commit": commit, "dirty": False, "sample": True, "gpu": g["gpu"]}
    return {
        "kind": "bench", "format_version": 1, "created_utc": created, "environment": env, "model": MODEL,
        "config": {"backends": ["cuda"], "repetitions": reps, "warmup": 1, "prompt_lengths": prompts,
                   "depths": depths, "gen_tokens": gen, "profile": "t4" if key == "t4" else None,
                   "vram_budget_bytes": budget},
        "results": res,
        "ceilings": {"bandwidth_bytes_per_s": g["bw"] * noise(), "fp16_flops_per_s": g["flops"] * noise(),
                     "how": "sample: device-to-device copy of 1 GiB; cuBLAS fp16 GEMM 8192^3"},
        "memory": {"backend": "cuda", "peak_bytes": peak, "breakdown": breakdown, "planned_bytes": planned,
                   "context_tokens": ctx, "prefill_tokens": max(prompts), "kv_bytes_per_token": KV_BYTES_PER_TOKEN,
                   "max_context_in_budget": min(4096, (budget - planned + breakdown["kv_cache"]) // KV_BYTES_PER_TOKEN)
                   if budget else None},
        "ops": ops,
    }


def main():
    out = {
        "1-t4-cuda-phi3mini-sample.json": make("t4", COMMIT_A, "2026-11-27T18:02:11Z", 1),
        "2-h200-cuda-phi3mini-sample.json": make("h200", COMMIT_A, "2026-11-27T18:40:53Z", 2),
        # a later commit whose attention change costs 10 % decode speed at depth >= 512
        "3-h200-cuda-phi3mini-slower-sample.json": make("h200", COMMIT_B, "2026-11-28T09:15:30Z", 3,
                                                      decode_slowdown_at=512),
    }
    for name, rec in out.items():
        tmp = os.path.join(HERE, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(rec, f, indent=2)
            f.write("\n")
        os.replace(tmp, os.path.join(HERE, name))


if __name__ == "__main__":
    main()
