#!/usr/bin/env python3
"""make_report.py: report.md and its PNG plots from goldpath bench records.

Run by `goldpath report` (harness/report.cpp) in the pinned venv .venv-report
(reports/requirements.txt, scripts/report_venv.sh), which has already checked
the records (reports/FORMAT.md) and owns the output folder:

    python reports/make_report.py --out DIR RECORD.json [RECORD.json ...]

Plots: decode tokens/s vs context depth (and prefill tokens/s vs prompt
length) per backend with the bandwidth ceiling where one was measured; a
roofline per record with "ops" rows; VRAM breakdown bars. Tables: one per
metric, one column per record (GPU, commit).
"""
import argparse
import json
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PNG_META = {"Software": None}  # no matplotlib version in the files: same input, same bytes
DPI = 110
METRIC_TITLES = {
    "prefill_tokens_per_s": "Prefill speed",
    "decode_tokens_per_s": "Decode speed",
    "ttft_ms": "Time to first token",
    "token_latency_ms_p50": "Decode token latency, p50",
    "token_latency_ms_p90": "Decode token latency, p90",
    "token_latency_ms_p99": "Decode token latency, p99",
    "decode_efficiency": "Decode efficiency (fraction of the bandwidth ceiling)",
    "peak_memory_bytes": "Peak memory",
}
BREAKDOWN = ["weights", "kv_cache", "activations", "workspace", "context"]


def load(paths):
    recs = []
    for i, p in enumerate(paths):
        with open(p, encoding="utf-8") as f:
            r = json.load(f)
        r["_path"] = p
        r["_id"] = f"R{i + 1}"
        recs.append(r)
    return recs


def gpu_name(r):
    g = r["environment"].get("gpu")
    return g["name"] if g else "CPU only"


def commit(r):
    c = r["environment"].get("commit", "unknown") or "unknown"
    short = c[:10] if c != "unknown" else c
    return short + ("+dirty" if r["environment"].get("dirty") else "")


def label(r):
    """Short column/legend label: R1 (NVIDIA H200, 1a2b3c4d5e)."""
    return f"{r['_id']} ({gpu_name(r)}, {commit(r)})"


def is_sample(r):
    return bool(r["environment"].get("sample"))


def human_bytes(b):
    if b is None:
        return "-"
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    i = 0
    b = float(b)
    while b >= 1024 and i < len(units) - 1:
        b /= 1024
        i += 1
    return f"{b:.0f} {units[i]}" if i == 0 else f"{b:.2f} {units[i]}"


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "bytes":
        return human_bytes(v)
    if unit == "fraction":
        return f"{100 * v:.1f}%"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def esc(s):
    return str(s).replace("|", "\\|")


def results(r, metric):
    return [x for x in r.get("results", []) if x["metric"] == metric]


def savefig(fig, out, name):
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=DPI, metadata=PNG_META)
    plt.close(fig)
    return name


# ------------------------------------------------------------------ plots
def speed_plot(recs, out, metric, xkey, xlabel, name, title):
    """tokens/s vs depth (or prompt length): one line per (record, backend),
    error bars min..max over repetitions; the bandwidth ceiling dashed for decode."""
    series = []
    for r in recs:
        by_backend = {}
        for x in results(r, metric):
            if x.get("median") is None or x.get(xkey) is None:
                continue
            by_backend.setdefault(x["backend"], []).append(x)
        for b, xs in sorted(by_backend.items()):
            xs.sort(key=lambda x: x[xkey])
            series.append((r, b, xs))
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(8, 5.4))
    cmap = plt.get_cmap("tab10")
    projected = set()
    for i, (r, b, xs) in enumerate(series):
        color = cmap(i % 10)
        X = [x[xkey] for x in xs]
        Y = [x["median"] for x in xs]
        lo = [y - (x.get("min") if x.get("min") is not None else y) for x, y in zip(xs, Y)]
        hi = [(x.get("max") if x.get("max") is not None else y) - y for x, y in zip(xs, Y)]
        ax.errorbar(X, Y, yerr=[lo, hi], marker="o", ms=4, capsize=3, color=color,
                    label=f"{b} - {label(r)}" + (" [sample]" if is_sample(r) else ""))
        proj = r.get("projection") or {}
        pts = sorted((x[xkey], x["value"]) for x in proj.get("results", [])
                     if x["metric"] == metric and x.get(xkey) is not None and x.get("value"))
        if pts and r["_id"] not in projected:  # once per record
            ax.plot([q[0] for q in pts], [q[1] for q in pts], ls=":", lw=1.5, color=color,
                    label=f"{r['_id']} projection to {proj.get('device', '?')} (roofline, not measured)")
            projected.add(r["_id"])
        if metric == "decode_tokens_per_s":
            ceil = decode_ceiling(r)
            if ceil:
                xs_c = sorted(set(X))
                ax.plot(xs_c, [ceil(d) for d in xs_c], ls="--", lw=1, color=color,
                        label=f"{r['_id']} ceiling: bandwidth / (weights + KV bytes per token)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("tokens/s")
    ax.set_yscale("log")
    all_x = sorted({x[xkey] for _, _, xs in series for x in xs})
    if len(all_x) > 1 and all_x[0] > 0 and all_x[-1] / all_x[0] >= 8:
        ax.set_xscale("symlog" if all_x[0] == 0 else "log", base=2)
    elif len(all_x) > 1 and all_x[0] == 0 and all_x[-1] >= 64:
        ax.set_xscale("symlog", base=2, linthresh=max(1, all_x[1] if len(all_x) > 1 else 1))
    if all_x[0] == 0:
        ax.set_xlim(left=0)
    ax.set_xticks(all_x)
    ax.set_xticklabels([str(v) for v in all_x])
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    return savefig(fig, out, name)


def decode_ceiling(r):
    """depth -> tokens/s ceiling = bandwidth / (weight bytes + KV bytes per token * depth)."""
    bw = (r.get("ceilings") or {}).get("bandwidth_bytes_per_s")
    wb = (r.get("model") or {}).get("weight_bytes")
    kv = (r.get("memory") or {}).get("kv_bytes_per_token")
    if not bw or not wb or kv is None:
        return None
    return lambda d: bw / (wb + kv * d)


def roofline_plot(r, out, name):
    ops = [o for o in r.get("ops") or [] if o.get("bytes") and o.get("flops") is not None]
    if not ops:
        return None
    c = r.get("ceilings") or {}
    bw, peak = c.get("bandwidth_bytes_per_s"), c.get("fp16_flops_per_s")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 5.2))
    cmap = plt.get_cmap("tab10")
    names = sorted({o["op"] for o in ops})
    ai = [o["flops"] / o["bytes"] for o in ops]
    lo, hi = min(ai + [0.1]) / 4, max(ai + [10]) * 4
    if bw and peak:
        hi = max(hi, 4 * peak / bw)
    xs = [lo * (hi / lo) ** (k / 200) for k in range(201)]
    if bw:
        roof = [min(bw * x, peak) if peak else bw * x for x in xs]
        ax.plot(xs, roof, color="black", lw=1.5,
                label=f"ceilings: {bw / 1e9:.0f} GB/s" + (f", {peak / 1e12:.1f} TFLOP/s fp16" if peak else ""))
        ax2.axhline(bw / 1e9, color="black", lw=1.5, label=f"bandwidth ceiling {bw / 1e9:.0f} GB/s")
    for n, (o, x) in enumerate(zip(ops, ai), 1):
        color = cmap(names.index(o["op"]) % 10)
        t = (o.get("time_s") or {}).get("median")
        flops_s = o["gflops"] * 1e9 if o.get("gflops") is not None else (o["flops"] / t if t else None)
        gbps = o.get("gbps") if o.get("gbps") is not None else (o["bytes"] / t / 1e9 if t else None)
        for a, y in ((ax, flops_s), (ax2, gbps)):
            if y:  # numbered as in the table under the plot
                a.scatter([x], [y], color=color, s=30, zorder=3, label=o["op"])
                a.annotate(str(n), (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title(f"Roofline: {gpu_name(r)} ({r['_id']})")
    ax.grid(True, which="both", alpha=0.3)
    ax2.set_xscale("log")
    ax2.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax2.set_ylabel("achieved GB/s")
    ax2.set_title("Memory throughput per op")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.set_ylim(bottom=0)
    seen = {}
    for a in (ax, ax2):
        for h, l in zip(*a.get_legend_handles_labels()):
            seen.setdefault(l, h)
    fig.legend(seen.values(), seen.keys(), fontsize=8, loc="lower center", ncol=min(len(seen), 4), frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(os.path.join(out, name), dpi=DPI, metadata=PNG_META)
    plt.close(fig)
    return name


def memory_plot(recs, out, name):
    rows = []
    for r in recs:
        m = r.get("memory") or {}
        per = m.get("by_backend") or {}
        if per:
            for b, mb in sorted(per.items()):
                if mb.get("breakdown"):
                    rows.append((f"{b} - {label(r)}", mb, r))
        elif m.get("breakdown"):
            rows.append((f"{m.get('backend', '')} - {label(r)}".lstrip(" -"), m, r))
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(rows) + 2.4))
    cmap = plt.get_cmap("Set2")
    gib = 1024 ** 3
    labelled = set()

    def once(name):
        if name in labelled:
            return None
        labelled.add(name)
        return name

    for i, (lab, m, r) in enumerate(rows):
        left = 0.0
        for k, part in enumerate(BREAKDOWN):
            v = (m["breakdown"].get(part) or 0) / gib
            ax.barh(i, v, left=left, color=cmap(k), label=once(part))
            left += v
        peak = m.get("peak_bytes")
        if peak:
            ax.plot([peak / gib], [i], ls="none", marker="|", ms=18, mew=2, color="black", label=once("measured peak"))
        budget = (r.get("config") or {}).get("vram_budget_bytes")
        if budget:
            ax.plot([budget / gib], [i], ls="none", marker="|", ms=18, mew=2, color="red", label=once("VRAM budget"))
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([l for l, _, _ in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("GiB")
    ax.set_title("Memory breakdown (plan) and measured peak")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, frameon=False)
    return savefig(fig, out, name)


# ------------------------------------------------------------------ tables
def records_table(recs):
    lines = ["| record | GPU | CPU | commit | model | backends | reps | created (UTC) | file |",
             "|---|---|---|---|---|---|---:|---|---|"]
    for r in recs:
        m = r.get("model", {})
        model = " ".join(str(x) for x in [m.get("name") or m.get("spec"), m.get("weight_dtype")] if x)
        cfg = r.get("config", {})
        name = r["_id"] + (" (sample)" if is_sample(r) else "")
        lines.append(f"| {name} | {esc(gpu_name(r))} | {esc(r['environment'].get('cpu', '-'))} | {commit(r)} | "
                     f"{esc(model)} | {', '.join(cfg.get('backends', []))} | {cfg.get('repetitions', '-')} | "
                     f"{r.get('created_utc', '-')} | {esc(os.path.basename(r['_path']))} |")
    return "\n".join(lines)


def metric_table(recs, metric):
    """rows: (backend, prompt length, depth); one column per record: median (+- stddev)."""
    keys, unit, hib, notes = [], None, None, set()
    cells = {}
    for r in recs:
        for x in results(r, metric):
            k = (x["backend"], x.get("prompt_length"), x.get("depth"))
            if k not in keys:
                keys.append(k)
            unit, hib = x["unit"], x["higher_is_better"]
            if x.get("median") is None:
                cells[(k, r["_id"])] = "-"
                if x.get("note"):
                    notes.add(x["note"])
                continue
            s = fmt(x["median"], unit)
            n = len(x.get("samples") or [])
            if x.get("stddev") and n > 1 and unit not in ("bytes",):
                s += f" ± {fmt(x['stddev'], unit)}"
            cells[(k, r["_id"])] = s
    if not keys:
        return None
    keys.sort(key=lambda k: (k[0], -1 if k[1] is None else k[1], -1 if k[2] is None else k[2]))
    has_p = any(k[1] is not None for k in keys)
    has_d = any(k[2] is not None for k in keys)
    head = ["backend"] + (["prompt"] if has_p else []) + (["depth"] if has_d else []) + [label(r) for r in recs]
    lines = ["| " + " | ".join(esc(h) for h in head) + " |",
             "|" + "---|" * (1 + has_p + has_d) + "---:|" * len(recs)]
    for k in keys:
        row = [k[0]] + ([str(k[1]) if k[1] is not None else "-"] if has_p else []) + \
              ([str(k[2]) if k[2] is not None else "-"] if has_d else [])
        row += [cells.get((k, r["_id"]), "n/a") for r in recs]
        lines.append("| " + " | ".join(row) + " |")
    direction = "higher is better" if hib else "lower is better"
    text = f"Unit: {unit}, {direction}; median over repetitions ± sample standard deviation.\n\n" + "\n".join(lines)
    for n in sorted(notes):
        text += f"\n\n- no value: {n}"
    return text


def ops_table(r):
    ops = r.get("ops") or []
    if not ops:
        return None
    lines = ["| # | backend | op | shape | bytes | GFLOP | time (median) | GB/s | GFLOP/s | of bandwidth | of FLOP/s |",
             "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for n, o in enumerate(ops, 1):
        t = (o.get("time_s") or {}).get("median")
        pct = lambda v: "-" if v is None else f"{100 * v:.0f}%"  # noqa: E731
        lines.append(f"| {n} | {o.get('backend', '-')} | {o['op']} | {esc(o.get('shape', ''))} | {human_bytes(o.get('bytes'))} | "
                     f"{fmt(o['flops'] / 1e9 if o.get('flops') is not None else None)} | "
                     f"{'-' if t is None else f'{t * 1e6:.1f} us'} | {fmt(o.get('gbps'))} | {fmt(o.get('gflops'))} | "
                     f"{pct(o.get('fraction_of_bandwidth'))} | {pct(o.get('fraction_of_flops'))} |")
    return "\n".join(lines)


def ceilings_table(recs):
    lines = ["| record | bandwidth | fp16 FLOP/s | how |", "|---|---:|---:|---|"]
    any_c = False
    for r in recs:
        c = r.get("ceilings") or {}
        bw, fl = c.get("bandwidth_bytes_per_s"), c.get("fp16_flops_per_s")
        any_c = any_c or bw or fl
        lines.append(f"| {esc(label(r))} | {'-' if not bw else f'{bw / 1e9:.0f} GB/s'} | "
                     f"{'-' if not fl else f'{fl / 1e12:.1f} TFLOP/s'} | {esc(c.get('how', 'not measured'))} |")
    return "\n".join(lines) if any_c else None


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("records", nargs="+")
    a = ap.parse_args()
    recs = load(a.records)
    out = a.out
    md = ["# goldpath benchmark report", ""]
    samples = [r["_id"] for r in recs if is_sample(r)]
    md.append(f"{len(recs)} bench record{'s' if len(recs) != 1 else ''}; columns and legends name each record "
              "by its id, GPU and commit.")
    if samples:
        md.append("")
        md.append(f"> **Sample data:** {', '.join(samples)} {'is' if len(samples) == 1 else 'are'} marked "
                  "`\"sample\": true`: constructed to show the format, not measured.")
    md += ["", "## Records", "", records_table(recs), ""]

    c = ceilings_table(recs)
    if c:
        md += ["## Ceilings (measured on the same device)", "", c, ""]

    md += ["## Speed", ""]
    p = speed_plot(recs, out, "decode_tokens_per_s", "depth", "context depth (tokens in the KV cache)",
                   "decode_vs_depth.png", "Decode tokens/s vs context depth")
    if p:
        md += [f"![decode tokens/s vs context depth]({p})", ""]
    p = speed_plot(recs, out, "prefill_tokens_per_s", "prompt_length", "prompt length (tokens)",
                   "prefill_vs_prompt.png", "Prefill tokens/s vs prompt length")
    if p:
        md += [f"![prefill tokens/s vs prompt length]({p})", ""]

    for metric, title in METRIC_TITLES.items():
        t = metric_table(recs, metric)
        if t:
            md += [f"### {title} (`{metric}`)", "", t, ""]
    known = set(METRIC_TITLES)
    others = sorted({x["metric"] for r in recs for x in r.get("results", []) if x["metric"] not in known})
    for metric in others:
        t = metric_table(recs, metric)
        if t:
            md += [f"### `{metric}`", "", t, ""]

    roof = []
    for r in recs:
        p = roofline_plot(r, out, f"roofline_{r['_id']}.png")
        if p:
            roof += [f"### {label(r)}", "", f"![roofline {r['_id']}]({p})", "", ops_table(r), ""]
    if roof:
        md += ["## Per-op roofline", "", "Achieved FLOP/s and GB/s against arithmetic intensity; black lines are "
               "the ceilings measured on the same device.", ""] + roof

    p = memory_plot(recs, out, "memory_breakdown.png")
    if p:
        md += ["## Memory", "", f"![memory breakdown]({p})", ""]
        lines = ["| record | backend | peak | " + " | ".join(BREAKDOWN) + " | KV bytes/token | max context in budget |",
                 "|---|---|---:|" + "---:|" * (len(BREAKDOWN) + 2)]
        for r in recs:
            m = r.get("memory") or {}
            per = m.get("by_backend") or {m.get("backend", "-"): m}
            for b, mb in sorted(per.items()):
                if not mb.get("breakdown"):
                    continue
                lines.append(f"| {esc(label(r))} | {b} | {human_bytes(mb.get('peak_bytes'))} | " +
                             " | ".join(human_bytes(mb["breakdown"].get(k)) for k in BREAKDOWN) +
                             f" | {human_bytes(mb.get('kv_bytes_per_token'))} | "
                             f"{mb.get('max_context_in_budget') if mb.get('max_context_in_budget') is not None else '-'} |")
        md += ["\n".join(lines), ""]

    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md).rstrip() + "\n")


if __name__ == "__main__":
    main()
