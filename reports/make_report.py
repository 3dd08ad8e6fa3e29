#!/usr/bin/env python3
"""make_report.py: report.md and its PNG plots from goldpath bench records.

Run by `goldpath report` (harness/report.cpp) in the pinned venv .venv-report
(reports/requirements.txt, scripts/report_venv.sh), which has already checked
the records (reports/FORMAT.md) and owns the output folder:

    python reports/make_report.py --out DIR RECORD.json [RECORD.json ...]

Plots: decode tokens/s vs context depth (and prefill tokens/s vs prompt
length), one panel per model, one line per backend and record, with the
bandwidth ceiling where one was measured; a roofline per record with "ops"
rows; VRAM breakdown bars. Every title over data of a sample record
(environment.sample) says "[sample]". Tables: one per metric, one column per
record (GPU, commit).
"""
import argparse
import json
import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

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
SAMPLE = " [sample]"  # in the title and legend of every plot of sample data
LEGEND_WRAP = 56  # characters per legend line
MARKER_AREA = 30  # roofline points, in points squared


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
    """Writes fig as out/name (the layout was fixed when the figure was made) and closes it."""
    fig.savefig(os.path.join(out, name), dpi=DPI, metadata=PNG_META)
    plt.close(fig)
    return name


def new_figure(nrows, ncols, width, height):
    """A figure with constrained layout (titles, tick labels and legends outside the
    axes get room of their own) at the DPI it is saved with, so that what is
    measured while laying it out is what the PNG shows."""
    return plt.subplots(nrows, ncols, figsize=(width, height), dpi=DPI, layout="constrained", squeeze=False)


def sample_tag(recs):
    """" [sample]" when any of recs is a sample record: every title over such data says so."""
    return SAMPLE if any(is_sample(r) for r in recs) else ""


def wrap(text, width):
    return textwrap.fill(text, width, break_on_hyphens=False)


def human_count(n):
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{suffix}"
    return str(n)


def model_name(r):
    """phi-3-mini q4_0: the model's name (or spec) and weight dtype."""
    m = r.get("model") or {}
    return " ".join(str(x) for x in [m.get("name") or m.get("spec"), m.get("weight_dtype")] if x) or "unknown model"


def model_key(r):
    """The model a record measured: records with the same key share a speed panel."""
    m = r.get("model") or {}
    return (m.get("name") or m.get("spec"), m.get("weight_dtype"), m.get("params"))


def model_title(r):
    """phi-3-mini q4_0 (3.82B params, synthetic weights)."""
    m = r.get("model") or {}
    extra = ([f"{human_count(m['params'])} params"] if m.get("params") else []) + \
            (["synthetic weights"] if m.get("synthetic") else [])
    return model_name(r) + (f" ({', '.join(extra)})" if extra else "")


def boxes_touch(a, b, gap=2.0):
    """Whether two display-space bounding boxes overlap or come closer than gap pixels."""
    return a.x0 < b.x1 + gap and b.x0 < a.x1 + gap and a.y0 < b.y1 + gap and b.y0 < a.y1 + gap


def fit_xticklabels(fig, axes):
    """Depth and prompt-length ticks are the measured values, which can crowd on
    a log axis: where neighbouring labels touch, they turn vertical, and where
    they still do, labels are left out (the tick stays) until none touch."""

    def boxes(ax):
        return [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]

    def crowded(ax):
        b = boxes(ax)
        return any(boxes_touch(p, q) for p, q in zip(b, b[1:]))

    fig.canvas.draw()
    for ax in axes:
        if not crowded(ax):
            continue
        ax.tick_params(axis="x", labelrotation=90)
        fig.canvas.draw()
        if not crowded(ax):
            continue
        keep, last = [], None
        for t in ax.get_xticklabels():
            box = t.get_window_extent()
            ok = last is None or not boxes_touch(last, box)
            keep.append(t.get_text() if ok else "")
            last = box if ok else last
        ax.set_xticks(ax.get_xticks(), labels=keep)
        fig.canvas.draw()


def plain_number(v):
    """A tick label: 0.3, 200, 20,000."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"


class PlainLogFormatter(matplotlib.ticker.LogFormatter):
    """Log-axis tick labels as plain numbers (0.3, 200, 20,000), on the ticks
    matplotlib's LogFormatter would label."""

    def __call__(self, x, pos=None):
        if not super().__call__(x, pos):
            return ""
        return plain_number(x)


# ------------------------------------------------------------------ plots
def speed_plot(recs, metric, xkey, xlabel, title):
    """tokens/s vs depth (or prompt length), one panel per model (models differ in
    speed by orders of magnitude): one line per (record, backend), error bars
    min..max over repetitions; the bandwidth ceiling dashed for decode."""
    panels = {}  # model key -> [(record, backend, rows)], in record order
    for r in recs:
        by_backend = {}
        for x in results(r, metric):
            if x.get("median") is None or x.get(xkey) is None:
                continue
            by_backend.setdefault(x["backend"], []).append(x)
        for b, xs in sorted(by_backend.items()):
            xs.sort(key=lambda x: x[xkey])
            panels.setdefault(model_key(r), []).append((r, b, xs))
    if not panels:
        return None
    fig, axs = new_figure(len(panels), 1, 10, 3.8 * len(panels) + 0.5)
    shown = [r for series in panels.values() for r, _, _ in series]
    fig.suptitle(f"{title}, one panel per model{sample_tag(shown)}")
    for ax, series in zip(axs[:, 0], panels.values()):
        speed_panel(ax, series, metric, xkey, xlabel)
    fit_xticklabels(fig, axs[:, 0])
    return fig


def speed_panel(ax, series, metric, xkey, xlabel):
    cmap = plt.get_cmap("tab10")
    first_color = {}  # record id -> (record, color of its first series): its projection and ceiling lines
    for i, (r, b, xs) in enumerate(series):
        color = cmap(i % 10)
        first_color.setdefault(r["_id"], (r, color))
        X = [x[xkey] for x in xs]
        Y = [x["median"] for x in xs]
        lo = [y - (x.get("min") if x.get("min") is not None else y) for x, y in zip(xs, Y)]
        hi = [(x.get("max") if x.get("max") is not None else y) - y for x, y in zip(xs, Y)]
        ax.errorbar(X, Y, yerr=[lo, hi], marker="o", ms=4, capsize=3, color=color,
                    label=wrap(f"{b} - {label(r)}" + (SAMPLE if is_sample(r) else ""), LEGEND_WRAP))
    for rid, (r, color) in first_color.items():  # once per record, not per backend
        X = sorted({x[xkey] for rr, _, xs in series if rr is r for x in xs})
        tag = SAMPLE if is_sample(r) else ""
        proj = r.get("projection") or {}
        pts = sorted((x[xkey], x["value"]) for x in proj.get("results", [])
                     if x["metric"] == metric and x.get(xkey) is not None and x.get("value"))
        if pts:
            ax.plot([q[0] for q in pts], [q[1] for q in pts], ls=":", lw=1.5, color=color,
                    label=wrap(f"{rid} projection to {proj.get('device', '?')} (roofline, not measured){tag}",
                               LEGEND_WRAP))
        ceil = decode_ceiling(r) if metric == "decode_tokens_per_s" else None
        if ceil:
            ax.plot(X, [ceil(d) for d in X], ls="--", lw=1, color=color,
                    label=wrap(f"{rid} ceiling: bandwidth / (weights + KV cache){tag}", LEGEND_WRAP))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("tokens/s")
    ys = [v for line in ax.get_lines() for v in line.get_ydata() if v > 0]
    if ys and max(ys) >= 10 * min(ys):  # a log axis where the values span a decade or more
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(PlainLogFormatter())
        ax.yaxis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    else:  # a linear one from 0, so that a small difference looks small
        ax.set_ylim(0, 1.08 * max(ys, default=1))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: plain_number(v)))
    all_x = sorted({x[xkey] for _, _, xs in series for x in xs})
    if len(all_x) > 1 and all_x[0] > 0 and all_x[-1] / all_x[0] >= 8:
        ax.set_xscale("log", base=2)
    elif len(all_x) > 1 and all_x[0] == 0 and all_x[-1] >= 64:
        ax.set_xscale("symlog", base=2, linthresh=max(1, all_x[1]))
    # margins of 4% of the axis as drawn (matplotlib pads a symlog axis in data
    # units, far below 0), around every line drawn, projections included
    drawn = [v for line in ax.get_lines() for v in line.get_xdata()]
    tr = ax.xaxis.get_transform()
    a, b = tr.transform([min(drawn), max(drawn)])
    pad = 0.04 * (b - a) if b > a else max(abs(a), 1) * 0.1
    ax.set_xlim(*tr.inverted().transform([a - pad, b + pad]))
    ax.set_xticks(all_x)
    ax.set_xticklabels([str(v) for v in all_x])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(wrap(model_title(series[0][0]) + sample_tag([r for r, _, _ in series]), 80))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, frameon=False)


def decode_ceiling(r):
    """depth -> tokens/s ceiling = bandwidth / (weight bytes + KV bytes per token * depth)."""
    bw = (r.get("ceilings") or {}).get("bandwidth_bytes_per_s")
    wb = (r.get("model") or {}).get("weight_bytes")
    kv = (r.get("memory") or {}).get("kv_bytes_per_token")
    if not bw or not wb or kv is None:
        return None
    return lambda d: bw / (wb + kv * d)


LABEL_PLACES = [((4, 3), "left", "bottom"), ((-4, 3), "right", "bottom"),
                ((4, -3), "left", "top"), ((-4, -3), "right", "top")]  # offsets (points) from a point


def number_points(fig, ax, pts, marker_px):
    """Writes each op's number (as in the table under the plot) beside its point,
    [(x, y, number)]: above right, else above left, below right, below left,
    the first place inside the axes that touches no other label and no other
    op's marker (marker_px across). A point with no such place shares one
    label ("4, 5") with the point it is in the way of, until every label fits."""
    groups = [[p] for p in pts]
    fig.canvas.draw()  # the layout; the labels take no part in it (set_in_layout(False))
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    h = marker_px / 2

    def annotate(text, at, place):
        offset, ha, va = place
        t = ax.annotate(text, at, fontsize=7, xytext=offset, textcoords="offset points", ha=ha, va=va)
        t.set_in_layout(False)
        return t, t.get_window_extent(renderer)

    while True:
        markers = []  # (display box of a point's marker, its group)
        for gi, g in enumerate(groups):
            for x, y, _ in g:
                cx, cy = ax.transData.transform((x, y))
                markers.append((Bbox.from_extents(cx - h, cy - h, cx + h, cy + h), gi))
        texts, placed, clash = [], [], None  # placed: (label box, its group)
        for gi, g in enumerate(groups):
            x, y, _ = max(g, key=lambda p: (p[1], p[0]))  # the upper point of the group
            text = ", ".join(str(n) for n in sorted(p[2] for p in g))
            first_hit = None
            for place in LABEL_PLACES:
                t, box = annotate(text, (x, y), place)
                hits = [j for b, j in placed if boxes_touch(box, b)] + \
                       [j for b, j in markers if j != gi and boxes_touch(box, b, gap=0)]
                fits = inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
                if fits and not hits:
                    break
                first_hit = first_hit if first_hit is not None else (hits[0] if hits else None)
                t.remove()
            else:
                if first_hit is None:  # nowhere inside the axes, yet in nobody's way: above right
                    t, box = annotate(text, (x, y), LABEL_PLACES[0])
                else:
                    clash = (gi, first_hit)
                    break
            texts.append(t)
            placed.append((box, gi))
        if clash is None:
            return
        for t in texts:
            t.remove()
        i, j = sorted(clash)
        groups[i] += groups.pop(j)


def roofline_plot(r):
    ops = [o for o in r.get("ops") or [] if o.get("bytes") and o.get("flops") is not None]
    if not ops:
        return None
    c = r.get("ceilings") or {}
    bw, peak = c.get("bandwidth_bytes_per_s"), c.get("fp16_flops_per_s")
    fig, axs = new_figure(1, 2, 11, 5.8)
    ax, ax2 = axs[0]
    tag = sample_tag([r])
    fig.suptitle(wrap(f"Per-op roofline: {label(r)}, {model_title(r)}{tag}", 110))
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
    numbered = {ax: [], ax2: []}
    for n, (o, x) in enumerate(zip(ops, ai), 1):
        color = cmap(names.index(o["op"]) % 10)
        t = (o.get("time_s") or {}).get("median")
        flops_s = o["gflops"] * 1e9 if o.get("gflops") is not None else (o["flops"] / t if t else None)
        gbps = o.get("gbps") if o.get("gbps") is not None else (o["bytes"] / t / 1e9 if t else None)
        for a, y in ((ax, flops_s), (ax2, gbps)):
            if y:
                a.scatter([x], [y], color=color, s=MARKER_AREA, zorder=3, label=o["op"])
                numbered[a].append((x, y, n))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title("Achieved FLOP/s against the ceilings" + tag)
    ax.grid(True, which="both", alpha=0.3)
    ax2.set_xscale("log")
    ax2.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax2.set_ylabel("achieved GB/s")
    ax2.set_title("Memory throughput per op" + tag)
    ax2.grid(True, which="both", alpha=0.3)
    ax2.set_ylim(bottom=0)
    seen = {}
    for a in (ax, ax2):
        for h, l in zip(*a.get_legend_handles_labels()):
            seen.setdefault(l, h)
    fig.legend(seen.values(), seen.keys(), fontsize=8, loc="outside lower center", ncol=min(len(seen), 4),
               frameon=False)
    for a, pts in numbered.items():
        number_points(fig, a, pts, MARKER_AREA ** 0.5 * DPI / 72)
    return fig


def memory_plot(recs):
    rows = []
    for r in recs:
        m = r.get("memory") or {}
        per = m.get("by_backend") or {}
        if per:
            for b, mb in sorted(per.items()):
                if mb.get("breakdown"):
                    rows.append((b, mb, r))
        elif m.get("breakdown"):
            rows.append((m.get("backend", ""), m, r))
    if not rows:
        return None
    fig, axs = new_figure(1, 1, 10, 0.75 * len(rows) + 2.2)
    ax = axs[0, 0]
    cmap = plt.get_cmap("Set2")
    gib = 1024 ** 3
    labelled = set()

    def once(name):
        if name in labelled:
            return None
        labelled.add(name)
        return name

    for i, (_, m, r) in enumerate(rows):
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
    ax.set_yticklabels([wrap(f"{b} - {label(r)}".lstrip(" -") + (SAMPLE if is_sample(r) else ""), 44) + "\n" +
                        wrap(model_name(r), 44) for b, _, r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("GiB")
    ax.set_title("Memory breakdown (plan) and measured peak" + sample_tag([r for _, _, r in rows]))
    ax.grid(True, axis="x", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncol=4, frameon=False)
    return fig


# ------------------------------------------------------------------ tables
def records_table(recs):
    lines = ["| record | GPU | CPU | commit | model | backends | reps | created (UTC) | file |",
             "|---|---|---|---|---|---|---:|---|---|"]
    for r in recs:
        m = r.get("model", {})
        model = model_name(r) if m else ""
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
    os.makedirs(out, exist_ok=True)  # goldpath report passes a fresh folder; a direct run may name a new one
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
    fig = speed_plot(recs, "decode_tokens_per_s", "depth", "context depth (tokens in the KV cache)",
                     "Decode tokens/s vs context depth")
    if fig:
        md += [f"![decode tokens/s vs context depth]({savefig(fig, out, 'decode_vs_depth.png')})", ""]
    fig = speed_plot(recs, "prefill_tokens_per_s", "prompt_length", "prompt length (tokens)",
                     "Prefill tokens/s vs prompt length")
    if fig:
        md += [f"![prefill tokens/s vs prompt length]({savefig(fig, out, 'prefill_vs_prompt.png')})", ""]

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
        fig = roofline_plot(r)
        if fig:
            p = savefig(fig, out, f"roofline_{r['_id']}.png")
            roof += [f"### {label(r)}", "", f"![roofline {r['_id']}]({p})", "", ops_table(r), ""]
    if roof:
        md += ["## Per-op roofline", "", "Achieved FLOP/s and GB/s against arithmetic intensity; black lines are "
               "the ceilings measured on the same device.", ""] + roof

    fig = memory_plot(recs)
    if fig:
        md += ["## Memory", "", f"![memory breakdown]({savefig(fig, out, 'memory_breakdown.png')})", ""]
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
