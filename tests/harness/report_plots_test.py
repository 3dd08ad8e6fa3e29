#!/usr/bin/env python3
"""report_plots_test.py: the plots of reports/make_report.py (`goldpath report`).

Renders bench records it writes to a temporary folder (and the committed
samples, reports/samples/*.json) with make_report.main(), capturing every
figure as it is saved, and checks:

  (1) records of two models of very different speed give the speed plots one
      panel per model, each panel titled with its model and holding only that
      model's data; legends name backend, record, GPU and commit;
  (2) every title over data of a sample record ("sample": true) says
      "[sample]", and no title (nor legend) over other records' data does;
  (3) within each figure no two text labels (titles, axis labels, tick labels,
      annotations, legends) overlap, all lie inside the figure, and no legend
      covers an axes;
  (4) two renders of the same records, each in a fresh process, give the same
      files, byte for byte.

Runs in the plotting venv (scripts/report_venv.sh); started by another
python, it runs itself again in .venv-report/bin/python:

    .venv-report/bin/python tests/harness/report_plots_test.py [--script PATH]

--script renders with another copy of make_report.py (e.g. an older one).
Exit 0: passed; 1: failed (each failure printed); 77: skipped (no
.venv-report, or one older than reports/requirements.txt).
"""
import argparse
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, ".venv-report")
SKIP = 77
SAMPLE = "[sample]"

MODEL_SLOW = {"spec": "models/tiny.gguf", "name": "tiny-cpu-test-model", "arch": "llama", "weight_dtype": "q4_1",
              "params": 1_000_000, "weight_bytes": 700_000, "sha256": "ab" * 32}
MODEL_FAST = {"spec": "synthetic:big:q4_0", "name": "big-gpu-test-model", "arch": "phi3", "weight_dtype": "q4_0",
              "params": 3_000_000_000, "weight_bytes": 1_800_000_000, "sha256": None,
              "synthetic": {"preset": "big", "seed": 0, "shapes_of": "test"}}
GPU = {"name": "NVIDIA H200", "compute_capability": "9.0", "sm_count": 132, "memory_bytes": 150_000_000_000,
       "driver_version": "580.95.05", "cuda_runtime_version": "13.0", "clocks_start": None, "clocks_end": None,
       "temperature_start": None, "temperature_end": None}


# ------------------------------------------------------------------ records
def row(backend, metric, prompt_length, depth, unit, value):
    samples = [value * 0.98, value, value * 1.03]
    mean = sum(samples) / 3
    sd = (sum((s - mean) ** 2 for s in samples) / 2) ** 0.5
    return {"backend": backend, "metric": metric, "prompt_length": prompt_length, "depth": depth, "unit": unit,
            "higher_is_better": unit == "tokens/s", "samples": samples, "median": value, "mean": mean,
            "stddev": sd, "min": min(samples), "max": max(samples)}


def ops_rows(bandwidth):
    """Op rows whose points crowd (equal intensities, close throughputs): the labels must not overlap."""
    rows = []
    for n, (op, ai, frac) in enumerate([("rmsnorm", 0.67, 0.60), ("rmsnorm", 0.67, 0.62), ("rope", 0.75, 0.56),
                                        ("attention", 1.0, 0.52), ("attention", 1.0, 0.53), ("lm_head", 1.0, 0.76),
                                        ("linear_q4_0", 3.5, 0.70), ("linear_q4_0", 3.5, 0.74),
                                        ("linear_q4_0", 3.6, 0.72), ("attention", 250.0, 0.24),
                                        ("linear_q4_0", 1000.0, 0.10), ("linear_q4_0", 1000.0, 0.11)]):
        nbytes = 1_000_000 * (n + 1)
        t = nbytes / (bandwidth * frac)
        rows.append({"backend": "cuda", "op": op, "shape": f"{n + 1}x3072", "bytes": nbytes, "flops": int(nbytes * ai),
                     "time_s": {"median": t, "stddev": t / 100, "samples": [t]}, "gbps": nbytes / t / 1e9,
                     "gflops": nbytes * ai / t / 1e9, "fraction_of_bandwidth": frac, "fraction_of_flops": None})
    return rows


def record(model, sample, commit, backends, decode, prefill, depths, prompts, gpu=True, profile=None):
    """A bench record (reports/FORMAT.md); decode and prefill are the tokens/s at depth 0 / the first
    prompt; with profile, a roofline projection to that device."""
    results = []
    for k, b in enumerate(backends):
        for p in prompts:
            results.append(row(b, "prefill_tokens_per_s", p, None, "tokens/s", prefill * (1 + 0.1 * k) * (1 - p / 1e5)))
        for d in depths:
            results.append(row(b, "decode_tokens_per_s", None, d, "tokens/s", decode * (1 + 0.1 * k) / (1 + d / 4096)))
        results.append(row(b, "peak_memory_bytes", None, None, "bytes", 5e9 if gpu else 2e6))
    breakdown = ({"weights": 1_900_000_000, "kv_cache": 1_600_000_000, "activations": 400_000_000,
                  "workspace": 60_000_000, "context": 300_000_000} if gpu else
                 {"weights": 700_000, "kv_cache": 300_000, "activations": 100_000, "workspace": 0, "context": 0})
    mem = {"backend": backends[0], "peak_bytes": sum(breakdown.values()) + 1000, "breakdown": breakdown,
           "planned_bytes": sum(breakdown.values()), "context_tokens": max(depths) + 8, "prefill_tokens": max(prompts),
           "kv_bytes_per_token": 393216 if gpu else 4096, "max_context_in_budget": None, "measured": None}
    if len(backends) > 1:
        mem["by_backend"] = {b: dict(mem, backend=b) for b in backends}
    bw = 4.0e12
    return {
        "kind": "bench", "format_version": 1, "created_utc": "2026-11-28T20:00:00Z",
        "environment": {"cpu": "Test CPU", "cpu_threads": 4, "os": "Linux", "compiler": "12.2.0",
                        "build_type": "Release", "commit": commit, "dirty": False, "sample": sample,
                        "gpu": GPU if gpu else None},
        "model": model,
        "config": {"backends": backends, "repetitions": 3, "warmup": 1, "prompt_lengths": prompts, "depths": depths,
                   "gen_tokens": 8, "profile": None, "vram_budget_bytes": 16_000_000_000 if gpu else None},
        "results": results,
        "descriptions": {b: "test" for b in backends},
        "ceilings": ({"bandwidth_bytes_per_s": bw, "fp16_flops_per_s": 6.6e14, "source": "measured", "how": "test"}
                     if gpu else {"bandwidth_bytes_per_s": None, "fp16_flops_per_s": None, "source": "none",
                                  "how": "CPU only"}),
        "memory": mem,
        "ops": ops_rows(bw) if gpu else [],
        "projection": None if not profile else {
            "device": profile, "label": "projection", "bandwidth_bytes_per_s": 3.2e11, "fp16_flops_per_s": 6.5e13,
            "memory_bytes": 16_000_000_000, "how": "test",
            "results": [{"metric": "decode_tokens_per_s", "prompt_length": None, "depth": d, "unit": "tokens/s",
                         "value": decode / 12 / (1 + d / 4096)} for d in depths]},
    }


def write_records(folder):
    """(path, record) of a slow CPU model (measured), a 3000x faster GPU model (a
    sample record), and a second record of the GPU model that is measured."""
    recs = [
        ("slow.json", record(MODEL_SLOW, False, "1" * 40, ["reference"], 0.33, 3.2, [0, 16, 64], [16, 64], gpu=False)),
        ("fast-sample.json", record(MODEL_FAST, True, "a" * 40, ["cuda"], 1000.0, 24000.0,
                                    [0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
                                    [16, 32, 64, 128, 256, 512, 1024, 2048, 4096], profile="t4")),
        ("fast-measured.json", record(MODEL_FAST, False, "b" * 40, ["cuda", "cublas"], 900.0, 21000.0,
                                      [0, 100, 128, 512, 2048], [128, 512, 2048])),
    ]
    out = []
    for name, r in recs:
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(r, f)
        out.append((path, r))
    return out


# ------------------------------------------------------------------ rendering
def load_script(path):
    spec = importlib.util.spec_from_file_location("make_report", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tick_labels(axis):
    """The tick labels an axis draws: those of its current ticks inside the view."""
    tr = axis.get_transform()
    lo, hi = sorted(tr.transform(list(axis.get_view_interval())))
    eps = 1e-6 * max(hi - lo, 1e-12)
    out = []
    for ticks in (axis.get_major_ticks(len(axis.get_majorticklocs())),
                  axis.get_minor_ticks(len(axis.get_minorticklocs()))):
        for t in ticks:
            if not t.get_visible() or not lo - eps <= tr.transform([t.get_loc()])[0] <= hi + eps:
                continue
            out += [lab for lab in (t.label1, t.label2) if lab.get_visible() and lab.get_text().strip()]
    return out


def inspect(fig, dpi):
    """What the checks need of a figure, laid out at the DPI it was saved with."""
    if dpi:
        fig.set_dpi(dpi)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    labels = []  # (what, text, display bbox)

    def add(what, artist):
        if artist is not None and artist.get_visible() and artist.get_text().strip():
            labels.append((what, artist.get_text(), artist.get_window_extent(r).frozen()))

    for t in fig.texts:
        add("figure title", t)
    axes, legends = [], []
    for i, ax in enumerate(fig.axes):
        add(f"axes {i} title", ax.title)
        add(f"axes {i} x label", ax.xaxis.label)
        add(f"axes {i} y label", ax.yaxis.label)
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            for t in tick_labels(axis):
                add(f"axes {i} {name} tick", t)
        for t in ax.texts:
            add(f"axes {i} annotation", t)
        leg = ax.get_legend()
        ydata = [float(v) for line in ax.get_lines() for v in line.get_ydata()]
        axes.append({"title": ax.get_title(), "has_data": ax.has_data(), "ydata": ydata,
                     "legend": [t.get_text() for t in leg.get_texts()] if leg else [],
                     "box": ax.get_window_extent(r).frozen()})
        if leg:
            legends.append((f"axes {i} legend", leg))
    legends += [(f"figure legend {i}", leg) for i, leg in enumerate(fig.legends)]
    for what, leg in legends:
        labels.append((what, " / ".join(t.get_text() for t in leg.get_texts()), leg.get_window_extent(r).frozen()))
    return {"titles": [t.get_text() for t in fig.texts if t.get_text().strip()], "axes": axes, "labels": labels,
            "legend_texts": [t.get_text() for _, leg in legends for t in leg.get_texts()],
            "legends": [(what, leg.get_window_extent(r).frozen()) for what, leg in legends],
            "size": fig.bbox.frozen()}  # boxes frozen: fig.bbox follows the figure's DPI


def render(mr, paths, folder):
    """Runs mr.main() on paths into folder; {png name: inspect()} of every figure saved."""
    from matplotlib.figure import Figure

    captured = {}
    real = Figure.savefig

    def savefig(fig, fname, *args, **kwargs):
        real(fig, fname, *args, **kwargs)
        captured[os.path.basename(str(fname))] = inspect(fig, kwargs.get("dpi"))

    os.makedirs(folder, exist_ok=True)
    argv = sys.argv
    sys.argv = ["make_report.py", "--out", folder] + paths
    Figure.savefig = savefig
    try:
        mr.main()
    finally:
        Figure.savefig = real
        sys.argv = argv
    return captured


# ------------------------------------------------------------------ checks
def flat(s):
    return " ".join(s.split())


def overlap(a, b):
    """Whether two display boxes share more than half a pixel each way."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5


def shown_records(name, recs):
    """The records a plot file of make_report shows: (id, record) pairs."""
    if name.startswith("roofline_"):
        rid = name[len("roofline_"):-len(".png")]
        return [(i, r) for i, r in recs if i == rid]
    metric = {"decode_vs_depth.png": "decode_tokens_per_s", "prefill_vs_prompt.png": "prefill_tokens_per_s"}.get(name)
    if metric:
        return [(i, r) for i, r in recs if any(x["metric"] == metric and x.get("median") is not None
                                              for x in r["results"])]
    return recs  # memory_breakdown.png: all


def model_name(r):
    return r["model"].get("name") or r["model"].get("spec")


def short_commit(r):
    return r["environment"]["commit"][:10]


def check_panels(tag, figs, recs, fail):
    """(1): one panel per model in each speed plot, titled with it, holding only its data."""
    for name in ("decode_vs_depth.png", "prefill_vs_prompt.png"):
        if name not in figs:
            fail(f"(1) {tag}: no {name}")
            continue
        shown = shown_records(name, recs)
        models = sorted({model_name(r) for _, r in shown})
        panels = [a for a in figs[name]["axes"] if a["has_data"]]
        if len(panels) != len(models):
            fail(f"(1) {tag} {name}: {len(panels)} panel(s) for {len(models)} models {models}; titles "
                 f"{[a['title'] for a in panels]}")
        for m in models:
            titled = [a for a in panels if m in flat(a["title"])]
            if len(titled) != 1:
                fail(f"(1) {tag} {name}: {len(titled)} panel titles name model {m!r} "
                     f"(titles {[a['title'] for a in panels]})")
                continue
            a = titled[0]
            metric = "decode_tokens_per_s" if name.startswith("decode") else "prefill_tokens_per_s"

            def medians(rs):
                return {x["median"] for r in rs for x in r["results"] if x["metric"] == metric}

            plotted = set(a["ydata"])
            missing = medians(r for _, r in shown if model_name(r) == m) - plotted
            strays = medians(r for _, r in shown if model_name(r) != m) & plotted
            if missing:
                fail(f"(1) {tag} {name}: the panel of {m!r} lacks its model's medians {sorted(missing)[:3]}")
            if strays:
                fail(f"(1) {tag} {name}: the panel of {m!r} plots other models' medians {sorted(strays)[:3]}")
            legend = flat(" | ".join(a["legend"]))
            for i, r in shown:
                if model_name(r) != m:
                    continue
                for b in r["config"]["backends"]:
                    gpu = (r["environment"].get("gpu") or {}).get("name", "CPU only")
                    want = f"{b} - {i} ({gpu}, {short_commit(r)}"
                    if want not in legend:
                        fail(f"(1) {tag} {name}: the legend of {m!r} does not name {want!r}: {legend!r}")


def check_sample_titles(tag, figs, recs, fail):
    """(2): "[sample]" in every title over sample data, in none over other data."""
    for name, f in sorted(figs.items()):
        shown = shown_records(name, recs)
        any_sample = any(r["environment"].get("sample") for _, r in shown)
        # (what, title, whether it is over sample data): a figure title is over all the figure
        # shows, a panel title over the records of the model it names (all, where it names none)
        titles = [("figure title", t, any_sample) for t in f["titles"]]
        for a in f["axes"]:
            if not a["title"].strip():
                continue
            of = [r for _, r in shown if model_name(r) in flat(a["title"])] or [r for _, r in shown]
            titles.append(("panel title", a["title"], any(r["environment"].get("sample") for r in of)))
        if any_sample and not any(SAMPLE in t for _, t, _ in titles):
            fail(f"(2) {tag} {name}: shows sample data but no title says {SAMPLE}: {[t for _, t, _ in titles]}")
        for what, t, want in titles:
            if want and SAMPLE not in t:
                fail(f"(2) {tag} {name}: the {what} is over sample data but lacks {SAMPLE}: {flat(t)!r}")
            if not want and SAMPLE in t:
                fail(f"(2) {tag} {name}: the {what} is over no sample record but says {SAMPLE}: {flat(t)!r}")
        if not any_sample:
            marked = [t for t in f["legend_texts"] if SAMPLE in t]
            if marked:
                fail(f"(2) {tag} {name}: legend entries say {SAMPLE} with no sample record: {marked[:3]}")


def check_layout(tag, figs, fail):
    """(3): no two labels of a figure overlap; all inside the figure; no legend over an axes."""
    for name, f in sorted(figs.items()):
        labels = f["labels"]
        for i in range(len(labels)):
            for j in range(i + 1, len(labels)):
                (wa, ta, ba), (wb, tb, bb) = labels[i], labels[j]
                if overlap(ba, bb):
                    fail(f"(3) {tag} {name}: {wa} {flat(ta)[:60]!r} overlaps {wb} {flat(tb)[:60]!r}")
        size = f["size"]
        for what, t, b in labels:
            if b.x0 < size.x0 - 1 or b.y0 < size.y0 - 1 or b.x1 > size.x1 + 1 or b.y1 > size.y1 + 1:
                fail(f"(3) {tag} {name}: {what} {flat(t)[:60]!r} is cut off at the figure's edge")
        for what, b in f["legends"]:
            for k, a in enumerate(f["axes"]):
                if overlap(b, a["box"]):
                    fail(f"(3) {tag} {name}: {what} covers axes {k} ({flat(a['title'])[:50]!r})")


def check_deterministic(script, paths, tmp, fail):
    """(4): two fresh processes, same records: the same files, byte for byte."""
    digests = []
    for k in range(2):
        out = os.path.join(tmp, f"det{k}")
        os.makedirs(out)
        env = dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=os.path.join(tmp, f"mplconfig{k}"),
                   PYTHONDONTWRITEBYTECODE="1")
        p = subprocess.run([sys.executable, script, "--out", out] + paths, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"(4) render {k + 1} failed (exit {p.returncode}): {p.stderr.strip()[-500:]}")
            return
        digests.append({n: hashlib.sha256(open(os.path.join(out, n), "rb").read()).hexdigest()
                        for n in sorted(os.listdir(out))})
    if digests[0] != digests[1]:
        diff = sorted(n for n in set(digests[0]) | set(digests[1]) if digests[0].get(n) != digests[1].get(n))
        fail(f"(4) two renders of the same records differ in {diff}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--script", default=os.path.join(ROOT, "reports", "make_report.py"))
    a = ap.parse_args()
    venv_python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        if not os.access(venv_python, os.X_OK):
            print(f"SKIP: no plotting venv {VENV}; create it with: bash scripts/report_venv.sh")
            return SKIP
        if os.environ.get("REPORT_PLOTS_TEST_REEXEC"):
            print(f"FAIL: {venv_python} does not run as the venv {VENV} (sys.prefix {sys.prefix})")
            return 1
        os.environ["REPORT_PLOTS_TEST_REEXEC"] = "1"
        os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + sys.argv[1:])
    stamp = os.path.join(VENV, ".goldpath-requirements.sha256")
    want = hashlib.sha256(open(os.path.join(ROOT, "reports", "requirements.txt"), "rb").read()).hexdigest()
    if not os.path.isfile(stamp) or open(stamp).read().strip() != want:
        print(f"SKIP: {VENV} is older than reports/requirements.txt; run: bash scripts/report_venv.sh")
        return SKIP
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(VENV, "mplconfig"))  # as goldpath report sets it

    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL", msg)

    mr = load_script(a.script)
    with tempfile.TemporaryDirectory(prefix="report_plots_test.") as tmp:
        made = write_records(tmp)
        samples = sorted(os.path.join(ROOT, "reports", "samples", n)
                         for n in os.listdir(os.path.join(ROOT, "reports", "samples")) if n.endswith(".json"))
        sets = {
            "mixed": [p for p, _ in made],
            "measured only": [p for p, r in made if not r["environment"]["sample"]],
            "sample only": [p for p, r in made if r["environment"]["sample"]],
            "reports/samples": samples,
        }
        for tag, paths in sets.items():
            recs = []
            for k, p in enumerate(paths):
                with open(p, encoding="utf-8") as f:
                    recs.append((f"R{k + 1}", json.load(f)))
            figs = render(mr, paths, os.path.join(tmp, re.sub(r"\W+", "-", tag)))
            if not figs:
                fail(f"{tag}: no figures saved")
            if len({model_name(r) for _, r in recs}) > 1:
                check_panels(tag, figs, recs, fail)
            check_sample_titles(tag, figs, recs, fail)
            check_layout(tag, figs, fail)
            print(f"rendered {tag}: {len(paths)} record(s), {len(figs)} figure(s)")
        check_deterministic(a.script, sets["mixed"], tmp, fail)
    if failures:
        print(f"report_plots_test: {len(failures)} failure(s) with {a.script}")
        return 1
    print(f"report_plots_test: passed with {a.script}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
