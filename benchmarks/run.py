"""Run the benchmarks and write a Markdown report plus a PNG of quality against training seconds.

    python -m benchmarks.run                 # everything (about 70 min on 2 CPU cores)
    python -m benchmarks.run --only gan,vae  # some parts: notebooks, liveview, autograde, gan, vae
    python -m benchmarks.run --only scale    # 200 students, locally and on Dask (~35 min)
    python -m benchmarks.run --quick         # tiny budgets, one notebook: a smoke test (CI)

A full run writes benchmarks/results/latest.md, latest.png and latest.json; `--only` and
`--quick` runs write to a temporary folder unless `--output` says where.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["COURSE_OFFLINE"] = "1"  # The bundled data in every part, online or not.

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import notebooks, quality, references  # noqa: E402

PARTS = ("notebooks", "liveview", "autograde", "gan", "vae")  # a full run
EXTRA_PARTS = ("scale",)  # only when named with --only
RUN_ORDER = ("gan", "vae", "liveview", "notebooks", "autograde", "scale")  # side by side first
RESULTS = REPO / "benchmarks" / "results"
BUDGETS = [15, 30, 60, 120]  # seconds of training, the issue's fixed budgets
CHECKPOINTS = [5, 10, 15, 20, 30, 40, 50, 60, 80, 100, 120]  # where quality is measured
REFERENCE_CAP = 600.0  # the reference's longest training when it is given 10x our time
AUTOGRADE_GOAL = 30.0  # seconds per submission (wall time over a class), a design trial included
LIVE_VIEW_GOAL = 1.05  # a training cell with the live view / the same cell without it
OURS_CAP = 240.0  # how long ours may train on when it misses the GAN target in 120 s
# The VAE target: None fixes it in each run from our configuration's test -ELBO after 60 s of
# training (so the question is how long the reference needs to match what ours reaches in
# 60 s, under the same load); --vae-threshold pins a number instead.
VAE_THRESHOLD = None
QUICK = {"budgets": [1, 2], "checkpoints": [1, 2], "reference_cap": 4.0, "ours_cap": None,
         "gan_samples": 200,
         "vae_test": 200, "notebooks": ["00_setup"], "modes": ["test"], "liveview_mode": "test",
         "liveview_pairs": 1, "class_size": 2, "jobs": (2,), "scale_size": 6}
FULL = {"budgets": BUDGETS, "checkpoints": CHECKPOINTS, "reference_cap": REFERENCE_CAP,
        "ours_cap": OURS_CAP,
        "gan_samples": 1000, "vae_test": 1000, "notebooks": None, "modes": ["test", "demo"],
        "liveview_mode": "demo", "liveview_pairs": 3,
        "class_size": 2, "jobs": (1, 2), "scale_size": 200}


def log(message: str) -> None:
    """Progress on stdout, flushed (long runs)."""
    print(message, flush=True)


def machine() -> dict:
    """What the numbers were measured on."""
    import importlib.metadata as meta

    cpu = "unknown CPU"
    if Path("/proc/cpuinfo").exists():
        cpu = next((line.split(":", 1)[1].strip() for line in
                    Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    memory = ""
    if Path("/proc/meminfo").exists():
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    versions = {}
    for package in ("tensorflow", "keras", "numpy", "scipy", "nbclient", "nbgrader"):
        try:
            versions[package] = meta.version(package)
        except meta.PackageNotFoundError:
            versions[package] = "not installed"
    return {"platform": f"{platform.system()} {platform.machine()}, {cpu}, "
                        f"{os.cpu_count()} cores{memory}",
            "python": platform.python_version(), "versions": versions}


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def _safe(part: str, function, *args, **kwargs):
    """Run one part; a failure becomes an error entry in the report, not a lost run."""
    try:
        return function(*args, **kwargs)
    except quality.NotebookMissing as missing:
        log(f"  {part}: skipped ({missing})")
        return {"skipped": str(missing)}
    except Exception as error:  # Keep benchmarking the other parts; exit non-zero at the end.
        import traceback

        traceback.print_exc()
        return {"error": f"{type(error).__name__}: {error}"}


def run_notebooks(settings: dict) -> list[dict]:
    """Wall time of each solution notebook in each mode."""
    rows = []
    for assignment in settings["notebooks"] or notebooks.course.assignments():
        for mode in settings["modes"]:
            log(f"notebook {assignment} in {mode} mode (load {_load()}) ...")
            row = notebooks.time_notebook(assignment, mode)
            log(f"  {row['seconds']:.1f} s, longest cell {row['longest_cell_seconds']:.1f} s"
                + (f", FAILED: {row['error']}" if row["error"] else ""))
            rows.append(row)
    return rows


def run_liveview(settings: dict) -> list[dict]:
    """Each training cell with and without the live view's drawing, side by side."""
    rows = []
    for assignment in settings["notebooks"] or notebooks.course.assignments():
        log(f"live view cost in {assignment}, {settings['liveview_mode']} mode "
            f"(load {_load()}) ...")
        row = notebooks.time_live_view(assignment, settings["liveview_mode"],
                                       pairs=settings["liveview_pairs"])
        log("  " + (", ".join(f"cell {c['cell']}: {c['seconds_off']:.1f} -> "
                              f"{c['seconds_on']:.1f} s ({c['drawing_share']:.1%} drawing, "
                              f"frames {c['frames']}, dearest {c['dearest_frame']} s)"
                              for c in row["cells"])
                    or "no training cells"))
        rows.append(row)
    return rows


def run_autograde(settings: dict) -> list[dict]:
    """Autograde seconds per submission for each assignment, grading a class one student at a
    time and in parallel."""
    rows = []
    for assignment in settings["notebooks"] or notebooks.course.assignments():
        log(f"autograde a class of {settings['class_size']} for {assignment} "
            f"(load {_load()}) ...")
        rows.append(notebooks.time_class_autograde(assignment, settings["class_size"],
                                                   settings["jobs"]))
        log("  " + ", ".join(f"{r['jobs']} job(s): {r['seconds_per_submission']:.1f} s per "
                             f"submission" for r in rows[-1]["rounds"]))
    return rows


def run_scale(settings: dict) -> dict:
    """A class graded locally and on a local Dask cluster with PostgreSQL (benchmarks/scale.py)."""
    from benchmarks import scale

    log(f"scale: a class of {settings['scale_size']} of 00_setup, locally and on a cluster "
        f"(load {_load()}) ...")
    result = scale.run(size=settings["scale_size"])
    log(f"  local {result['local']['seconds_per_submission']:.2f} s, cluster "
        f"{result['cluster']['seconds_per_submission']:.2f} s per submission")
    return result


def run_gan(settings: dict) -> dict:
    """GAN quality at the budgets: the notebook's demo configuration and the DCGAN reference."""
    log(f"GAN: notebook demo configuration vs DCGAN reference (load {_load()}) ...")
    ours = functools.partial(quality.notebook_gan, settings["gan_notebook"])
    return quality.run_gan({"ours": ours, "reference": references.reference_dcgan},
                           settings["checkpoints"], settings["gan_samples"],
                           reference_cap=settings["reference_cap"],
                           ours_cap=settings["ours_cap"], log=log)


def run_vae(settings: dict) -> dict:
    """VAE test negative ELBO at the budgets: the notebook's demo configuration at latent 2 and
    the CVAE reference."""
    log(f"VAE: notebook demo configuration (latent 2) vs CVAE reference (load {_load()}) ...")
    ours = functools.partial(quality.notebook_vae, settings["vae_notebook"])
    return quality.run_vae({"ours": ours, "reference": references.reference_cvae},
                           settings["checkpoints"], settings["vae_test"],
                           reference_cap=settings["reference_cap"],
                           threshold=settings["vae_threshold"], log=log)


# ------------------------------------------------------------------------------------ report


def _ratio(results: dict) -> tuple[str, float | None]:
    """'reference time / our time' as text, and as a number when both reached the target."""
    ours, reference = results.get("ours", {}), results.get("reference", {})
    if "rows" not in ours:
        return "n/a (ours did not run)", None
    if ours.get("time_to_target") is None:
        return "n/a (ours did not reach the target)", None
    if "rows" not in reference:
        return "n/a (the reference did not run)", None
    mine, theirs = ours["time_to_target"], reference.get("time_to_target")
    if theirs is None:
        given = reference["trained_up_to"] / mine  # a lower bound on the ratio
        prefix = ">" if given >= quality.REFERENCE_FACTOR - 0.5 else "≥"
        return (f"{prefix} {given:.1f}× (the reference did not reach the target in "
                f"{reference['trained_up_to']:.0f} s of training)"), given
    ratio = theirs / mine
    low = _previous_seconds(reference, theirs) / mine
    before = _previous_seconds(ours, mine)
    high = f"{theirs / before:.1f}×" if before else "more"
    return (f"{ratio:.2f}× (between {low:.1f}× and {high} given the spacing of the "
            "checkpoints)"), ratio


def _verdict(results: dict) -> str:
    """The 5x goal against the measured ratio or, when the reference missed the target, against
    the lower bound its training time gives."""
    _, ratio = _ratio(results)
    if ratio is None:
        return ""
    if ratio >= 5:
        return "goal ≥ 5× sooner: met"
    if results["reference"].get("time_to_target") is not None:
        return "goal ≥ 5× sooner: NOT met"
    return "goal ≥ 5× sooner: not shown (the reference was given less than 5× our time)"


def _previous_seconds(entry: dict, seconds: float) -> float:
    """Training seconds at the checkpoint before the one that met the target (0 if none)."""
    earlier = [r["seconds"] for r in entry["rows"] if r["seconds"] < seconds]
    return max(earlier, default=0.0)


def _time(value: float | None, results: dict) -> str:
    if value is not None:
        return f"{value:.0f} s"
    return f"not reached in {results['trained_up_to']:.0f} s" if "rows" in results else "—"


def _status(results: dict, name: str) -> str | None:
    entry = results.get(name, {})
    if "skipped" in entry:
        return f"{name}: skipped ({entry['skipped']})"
    if "error" in entry:
        return f"{name}: FAILED ({entry['error']})"
    return None


def _budget_rows(entry: dict, budgets: list[float]) -> list[dict]:
    rows = entry.get("rows", [])
    shown = [r for r in rows if r["budget"] in budgets]
    return shown + [r for r in rows if r["budget"] > budgets[-1]]


def report(data: dict, settings: dict) -> str:
    """The Markdown report."""
    info = data["machine"]
    lines = [
        "# Benchmarks", "",
        f"Written by `{data['command']}` on {data['date']}; the parts took "
        + ", ".join(f"{k} {v:.1f}" for k, v in data["part_minutes"].items())
        + f" min ({sum(data['part_minutes'].values()):.1f} min in all; with `--update` the "
        "time of a part's last rerun)"
        + (f"; NOT YET RUN: {', '.join(data['pending'])}" if data["pending"] else "") + ".", "",
        f"- Machine: {info['platform']}; load average (1/5/15 min) at the start of each part "
        "(of its last rerun): " + "; ".join(
            f"{k} {v} ({data['part_dates'].get(k, '?')})" for k, v in data["part_loads"].items())
        + ". The machine is shared with other jobs, so absolute seconds are inflated by "
        "their load; the side-by-side comparisons within this run are what count.",
        f"- Versions: Python {info['python']}, " + ", ".join(
            f"{k} {v}" for k, v in info["versions"].items()) + ".",
        "- Data: the bundled MNIST subset (4,000 training / 1,000 test digits), offline.", ""]
    parts = data["parts"]
    lines += ["## Goals at a glance", ""] + [f"- {line}" for line in _summary(parts)] + [""]
    if "notebooks" in parts:
        lines += ["## Notebook wall times", "",
                  "Every solution notebook top to bottom in a fresh kernel (nbclient), kernel "
                  "start included. Goals: under 45–60 s in `test` mode; every training cell "
                  "about 60 s or less in `demo` mode (the longest cell is shown).", ""]
        entry = parts["notebooks"]
        if isinstance(entry, dict):
            lines += [f"Not measured: {entry.get('error') or entry.get('skipped')}", ""]
        else:
            modes = [m for m in ("test", "demo", "full") if any(r["mode"] == m for r in entry)]
            header = ["notebook"] + [f"`{m}` total s" for m in modes] + [
                f"`{m}` longest cell s" for m in modes]
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            for assignment in dict.fromkeys(r["assignment"] for r in entry):
                by_mode = {r["mode"]: r for r in entry if r["assignment"] == assignment}
                cells = [f"{by_mode[m]['seconds']:.1f}" + (" (FAILED)" if by_mode[m]["error"]
                                                            else "") if m in by_mode else "—"
                         for m in modes]
                cells += [f"{by_mode[m]['longest_cell_seconds']:.1f} (cell "
                          f"{by_mode[m]['longest_cell']})" if m in by_mode else "—"
                          for m in modes]
                lines.append(f"| `{assignment}` | " + " | ".join(cells) + " |")
            failures = [f"{r['assignment']} ({r['mode']}): {r['error']}" for r in entry
                        if r["error"]]
            lines += [""] + [f"- FAILED: {f}" for f in failures] + ([""] if failures else [])
            lines += _training_section(entry)
    if "liveview" in parts:
        lines += _liveview_section(parts["liveview"])
    if "autograde" in parts:
        lines += ["## Autograde", "",
                  "A class of complete submissions (copies of the solution notebook, so every "
                  "cell runs) graded with the instructor's commands, `python -m grading "
                  "collect` then `autograde --jobs N`, in a throwaway course (`COURSE_MODE=test`, "
                  "offline). Seconds per submission = the class's wall time / its size, "
                  "nbgrader's start-up included (the sandboxed kernels' CPU time cannot be "
                  "counted from outside their PID namespace, so no CPU column). Goal: 30 s or "
                  "less per submission (a design task's trial included). Before any student, "
                  "each class run grades the solution once in the same sandbox (`solution "
                  "check`, seconds per class run, not in the per-submission figure).", ""]
        entry = parts["autograde"]
        if isinstance(entry, dict):
            lines += [f"Not measured: {entry.get('error') or entry.get('skipped')}", ""]
        else:
            lines += ["| assignment | students | jobs | s per submission | solution check (s) "
                      "| graded | load before |", "|---|---|---|---|---|---|---|"]
            lines += [f"| `{r['assignment']}` | {r['students']} | {r['jobs']} | "
                      f"{r['seconds_per_submission']:.1f} | "
                      + (f"{r['solution_check_seconds']:.1f}" if "solution_check_seconds" in r
                         else "—")
                      + f" | {r['graded']}/{r['students']} | "
                      + (f"{r['load_before'][0]:.1f}" if r["load_before"] else "—") + " |"
                      for a in entry for r in a.get("rounds", [])]
            lines.append("")
    for kind, label in (("gan", "GAN"), ("vae", "VAE")):
        if kind in parts:
            lines += _quality_section(kind, label, parts[kind], settings)
    if "scale" in parts:
        lines += _scale_section(parts["scale"])
    return "\n".join(lines) + "\n"


def _fits(rows: list[dict], mode: str = "demo") -> list[dict]:
    """Every fit a live view watched in `mode`, with its notebook, cell and the cell's time."""
    return [dict(fit, assignment=row["assignment"], cell=cell["cell"],
                 cell_seconds=cell["cell_seconds"])
            for row in rows if row["mode"] == mode
            for cell in row.get("training_cells", []) for fit in cell["fits"]]


def _within(fit: dict) -> bool:
    return fit["budget"] is None or fit["training_seconds"] <= fit["budget"]


def _training_section(rows: list[dict]) -> list[str]:
    fits = _fits(rows)
    if not fits:
        return []
    lines = ["### Training cells in `demo` mode: the time budget", "",
             "Each fit a training cell's live view watched, in the same runs as the table above. "
             "*Budget*: the seconds of training the view allows this fit "
             "(`common.training_seconds()`, 55 s in demo mode, times the view's `share` when a "
             "cell trains two models); *trained*: from the fit's start to its final frame; "
             "*final frame*: drawing it; *cell*: the whole cell (models built, results "
             "evaluated). *Reached*: epochs trained of those planned (a fraction when the budget "
             "stopped one mid-epoch) and the last logged metrics. Goal: trained within the "
             "budget, so the cell keeps to its time plus its final frame on a slow machine.", "",
             "| notebook | cell | fit | budget s | trained s | final frame s | cell s | reached "
             "| last metrics |", "|---|---|---|---|---|---|---|---|---|"]
    for fit in fits:
        budget = "none" if fit["budget"] is None else f"{fit['budget']:.1f}"
        reached = (f"{fit['epochs']:g} of {fit['epochs_planned']} epochs"
                   + (" (stopped at the budget)" if fit["stopped_at_budget"] else ""))
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in fit["last"].items())
        cell = "—" if fit["cell_seconds"] is None else f"{fit['cell_seconds']:.1f}"
        lines.append(f"| `{fit['assignment']}` | {fit['cell']} | {fit['title'] or '—'} | "
                     f"{budget} | {fit['training_seconds']:.1f}"
                     + ("" if _within(fit) else " (OVER)")
                     + f" | {fit['final_frame_seconds']:.2f} | {cell} | {reached} | {metrics} |")
    return lines + [""]


def _scale_section(entry: dict) -> list[str]:
    lines = ["## Grading at scale", ""]
    if "error" in entry or "skipped" in entry:
        return lines + [f"Not measured: {entry.get('error') or entry.get('skipped')}", ""]
    local, cluster = entry["local"], entry["cluster"]
    counts = ", ".join(f"{n} {kind}" for kind, n in entry["class"].items())
    lines += [f"One class of `{entry['assignment']}` ({counts}) graded with one probe seed, "
              "side by side: locally (`--jobs 2`) with the SQLite and with a PostgreSQL "
              "gradebook, and on a local Dask cluster of 2 workers, one thread each "
              "(`--cluster`, PostgreSQL), scheduler, workers and database on this machine (so "
              "PostgreSQL's server takes its CPU from the kernels). Seconds per submission = the "
              "class's wall time / its size; a task's seconds = one student's autograde on a "
              "worker; the gradebook's share = its statements' seconds / the tasks' seconds.",
              "",
              "| run | students | graded | s per submission | median task s | gradebook s per "
              "submission | gradebook share | solution check s |",
              "|---|---|---|---|---|---|---|---|"]
    rows = [("local, `--jobs 2`, SQLite", local)]
    if "local_postgres" in entry:
        rows.append(("local, `--jobs 2`, PostgreSQL", entry["local_postgres"]))
    for label, row in (*rows, ("Dask, 2 workers, PostgreSQL", cluster)):
        lines.append(f"| {label} | {row['students']} | {row['graded']} | "
                     f"{row['seconds_per_submission']:.2f} | {row['task_seconds_median']:.2f} | "
                     f"{row['database_seconds_per_submission']:.3f} | "
                     f"{100 * row['database_share']:.1f}% | {row['solution_check_seconds']:.1f} |")
    projected = entry["projected_minutes_for_1000"]
    same = (f"; cluster / local with PostgreSQL too: {entry['cluster_over_local_postgres']:.3f}"
            if "cluster_over_local_postgres" in entry else "")
    lines += ["", f"Cluster / local: {entry['cluster_over_local']:.3f}{same} (goal: within "
              "10%). The "
              f"scheduler adds {1000 * entry['scheduler_seconds_per_task']:.2f} ms per task "
              "(no-op tasks submitted at once). Projected for 1,000 students from the median "
              "task: " + ", ".join(f"{m} min on {w} workers" for w, m in projected.items())
              + " (1,000 × task / workers + 1,000 × scheduler overhead + one solution check; "
              "it assumes the database keeps up, which its share above suggests).", ""]
    return lines


def _live_cells(entry) -> list[dict]:
    return [dict(cell, assignment=row["assignment"], mode=row["mode"])
            for row in entry if isinstance(row, dict) for cell in row.get("cells", [])]


def _liveview_section(entry) -> list[str]:
    lines = ["## Live training view: what it costs", "",
             "Each training cell of each solution notebook (a cell that shows a "
             "`common.plotting.LiveTraining` view) runs in pairs in one kernel: once "
             "with the view drawing, once without (its callback then only records and samples), "
             "the order alternating from pair to pair. With several pairs the table gives each "
             "side's median and the median of the pairs' ratios. Before the view, these cells "
             "printed one log line per epoch, which costs nothing measurable, so *without* "
             "stands for *before*. Two runs of the same cell differ by 10-20% on this shared "
             "machine (see *each pair*), more than the effect measured, so the goal is judged "
             "on *drawing*: the share of the cell's time (with the view) spent inside the "
             "view's drawing, clocked in the same runs. The view draws on the training thread "
             "between batches, so that is the time it adds. *Frames*: how many pictures each "
             "run with the view drew (its final frame included); *dearest*: the slowest frame's "
             "seconds. Goal: the view adds at most "
             f"{LIVE_VIEW_GOAL - 1:.0%}.", ""]
    if isinstance(entry, dict):
        return lines + [f"Not measured: {entry.get('error') or entry.get('skipped')}", ""]
    lines += ["| notebook | mode | cell | pairs | without view s | with view s | "
              "with / without | each pair | drawing | frames | dearest s | first run |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| `{c['assignment']}` | {c['mode']} | {c['cell']} | {c.get('pairs', 1)} | "
              f"{c['seconds_off']:.1f} | {c['seconds_on']:.1f} | {c['ratio']:.3f} | "
              f"{', '.join(f'{r:.2f}' for r in c.get('ratios', [c['ratio']]))} | "
              f"{_share(c)} | {', '.join(map(str, c.get('frames', []))) or '-'} | "
              f"{c['dearest_frame'] if 'dearest_frame' in c else '-'} | {c['first']} |"
              for c in _live_cells(entry)]
    return lines + [""]


def _share(cell: dict) -> str:
    return f"{cell['drawing_share']:.1%}" if "drawing_share" in cell else "not clocked"


def _summary(parts: dict) -> list[str]:
    """One line per goal of the issue: met, or where it falls short."""
    lines = []
    rows = parts.get("notebooks")
    if isinstance(rows, list):
        for mode, limit, what in (("test", 60.0, "whole notebook"),
                                  ("demo", 60.0, "longest cell")):
            measured = [r for r in rows if r["mode"] == mode]
            if not measured:
                continue
            key = "seconds" if mode == "test" else "longest_cell_seconds"
            over = [f"`{r['assignment']}` {r[key]:.0f} s" for r in measured if r[key] > limit]
            failed = [f"`{r['assignment']}`" for r in measured if r["error"]]
            lines.append(f"`{mode}` mode, {what} ≤ {limit:.0f} s: "
                         + ("met by every notebook" if not over else "over in " + ", ".join(over))
                         + (f"; FAILED to run: {', '.join(failed)}" if failed else "") + ".")
        fits = _fits(rows)
        if fits:
            over = [f"`{f['assignment']}` cell {f['cell']} {f['training_seconds']:.0f} s"
                    for f in fits if not _within(f)]
            stopped = sum(f["stopped_at_budget"] for f in fits)
            frame = max(f["final_frame_seconds"] for f in fits)
            lines.append("`demo` mode, every fit within its time budget: "
                         + ("met" if not over else "over in " + ", ".join(over))
                         + f" ({len(fits)} fits, {stopped} stopped by the budget; final frames "
                         f"≤ {frame:.1f} s).")
    cells = _live_cells(parts["liveview"]) if isinstance(parts.get("liveview"), list) else []
    clocked = [c for c in cells if "drawing_share" in c]
    if cells and not clocked:
        lines.append("Live view: its drawing was not clocked (rerun `--only liveview`).")
    if clocked:
        limit = LIVE_VIEW_GOAL - 1
        ratios = [c["ratio"] for c in cells]
        over = [f"`{c['assignment']}` cell {c['cell']} {c['drawing_share']:.1%}"
                for c in clocked if c["drawing_share"] > limit]
        worst = max(clocked, key=lambda c: c["drawing_share"])
        lines.append(f"Live view adds ≤ {limit:.0%} to each training cell "
                     f"({clocked[0]['mode']} mode, time spent drawing): "
                     + (f"met (largest {worst['drawing_share']:.1%}, `{worst['assignment']}` "
                        f"cell {worst['cell']})" if not over else "over in " + ", ".join(over))
                     + f"; wall time with / without ×{min(ratios):.2f} to ×{max(ratios):.2f}"
                     + (f"; {len(cells) - len(clocked)} cell(s) not clocked"
                        if len(clocked) < len(cells) else "") + ".")
    graded = parts.get("autograde")
    if isinstance(graded, list):
        rounds = [r for a in graded for r in a.get("rounds", [])]
        over = [f"`{r['assignment']}` {r['seconds_per_submission']:.0f} s ({r['jobs']} job(s))"
                for r in rounds if r["seconds_per_submission"] > AUTOGRADE_GOAL]
        lines.append(f"Autograde ≤ {AUTOGRADE_GOAL:.0f} s per submission: "
                     + ("met in every round measured" if not over
                        else "over in " + ", ".join(over)) + ".")
    for kind, label in (("gan", "GAN"), ("vae", "VAE")):
        results = parts.get(kind)
        if isinstance(results, dict) and "error" not in results:
            text, _ = _ratio(results)
            ours = results.get("ours", {})
            if "rows" not in ours:
                mine = "ours did not run"
            elif ours["time_to_target"] is None:
                mine = f"ours did not reach the target in {ours['trained_up_to']:.0f} s"
            else:
                mine = f"ours reached the target after {ours['time_to_target']:.0f} s"
            verdict = _verdict(results)
            verdict = f" ({verdict})" if verdict else ""
            lines.append(f"{label}: {mine}; reference time / ours: {text}{verdict}.")
    return lines or ["nothing measured"]


def _threshold_text(results: dict) -> str:
    chosen = results.get("threshold", {})
    if not chosen.get("threshold"):
        return "none (ours did not run)"
    return f"≤ {chosen['threshold']:.1f} nats ({chosen['source']})"


def _quality_section(kind: str, label: str, results: dict, settings: dict) -> list[str]:
    counts = {results.get(n, {}).get("num_train") for n in ("ours", "reference")} - {None}
    images = " / ".join(f"{c:,}" for c in sorted(counts)) or "4,000"
    if kind == "gan":
        lines = [
            "## GAN: sample quality at a training-time budget", "",
            "Ours: the GAN notebook's demo configuration (its `benchmark-config` cell, with "
            "its optimisers, and its own `build_generator`, `build_discriminator`, `GAN`), "
            "scored like the notebook with the generator weights' moving average when its "
            "optimiser keeps one. Reference: the TensorFlow "
            "DCGAN tutorial's published configuration, written for `benchmarks/references.py`. "
            f"Both train with `fit` on the same {images} bundled training digits scaled to "
            "[−1, 1]; training time "
            f"excludes evaluation. Scores of {settings['gan_samples']:,} samples from fixed noise "
            "under `common.metrics`: confidence (mean max-probability of the reference "
            "classifier), the smallest class share, and the Fréchet classifier distance (FCD) "
            f"to {settings['gan_samples']:,} test digits. Quality is measured at "
            f"{', '.join(map(str, settings['checkpoints']))} s of training (the table shows the "
            "fixed budgets, then the extra checkpoints when ours had not reached the target by "
            "the last budget or the reference was given up to 10× our time, at most "
            f"{settings['reference_cap']:.0f} s); the time to target is the first checkpoint "
            "that meets it. Target: confidence ≥ "
            f"{quality.GAN_TARGET['confidence']} with every digit ≥ "
            f"{quality.GAN_TARGET['min_class_share']:.0%} of the samples.", "",
            "| configuration | budget s | trained s | confidence | smallest class share | FCD "
            "| images/s |", "|---|---|---|---|---|---|---|"]
        fmt = ("| {name} | {budget:.0f} | {seconds:.1f} | {confidence:.3f} | "
               "{min_class_share:.1%} | {fcd:.1f} | {images_per_second:.0f} |")
    else:
        lines = [
            "## VAE: test negative ELBO at a training-time budget", "",
            "Ours: the VAE notebook's demo configuration at latent 2 (its `benchmark-config` "
            "cell and its own `build_vae_encoder`, `build_vae_decoder`, `VAE`). Reference: the "
            "TensorFlow CVAE tutorial's published configuration at latent 2, written for "
            f"`benchmarks/references.py`. Both train with `fit` on the same {images} bundled "
            "training digits (binarised when the configuration says so; the reference always). "
            "Test negative ELBO in nats per image (`common.metrics.negative_elbo`, one sample "
            f"of z per image) on the first {settings['vae_test']:,} images of the binarised "
            "bundled test split, measured at the same checkpoints as the GAN. Target: "
            + _threshold_text(results) + ".",
            "", "| configuration | budget s | trained s | test −ELBO (nats) | images/s |",
            "|---|---|---|---|---|"]
        fmt = ("| {name} | {budget:.0f} | {seconds:.1f} | {negative_elbo:.1f} | "
               "{images_per_second:.0f} |")
    for name in ("ours", "reference"):
        for row in _budget_rows(results.get(name, {}), settings["budgets"]):
            lines.append(fmt.format(name=name, **row))
    lines.append("")
    lines += [f"- {s}" for s in (_status(results, "ours"), _status(results, "reference")) if s]
    if "error" in results:
        lines.append(f"- FAILED: {results['error']}")
    for name in ("ours", "reference"):
        entry = results.get(name, {})
        if "rows" in entry:
            lines.append(f"- {name}: {entry['description']}; time to target "
                         f"{_time(entry['time_to_target'], entry)}.")
    text, _ = _ratio(results)
    goal = _verdict(results)
    goal = f" — {goal}." if goal else ""
    lines += [f"- Reference time to target / our time to target: **{text}**{goal}", ""]
    return lines


def plot(data: dict, path: Path) -> None:
    """Quality against training seconds, ours vs the reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    panels = [("gan", "confidence", "GAN: classifier confidence",
               quality.GAN_TARGET["confidence"]),
              ("gan", "fcd", "GAN: Fréchet classifier distance (lower is better)", None),
              ("vae", "negative_elbo", "VAE (latent 2): test −ELBO, nats (lower is better)",
               (data["parts"].get("vae") or {}).get("threshold", {}).get("threshold"))]
    panels = [p for p in panels if isinstance(data["parts"].get(p[0]), dict)]
    figure, axes = plt.subplots(1, max(len(panels), 1), figsize=(5.2 * max(len(panels), 1), 4),
                                squeeze=False)
    for axis, (kind, key, title, target) in zip(axes[0], panels):
        for name, style in (("ours", "o-"), ("reference", "s--")):
            rows = data["parts"][kind].get(name, {}).get("rows", [])
            if rows:
                axis.plot([r["seconds"] for r in rows], [r[key] for r in rows], style,
                          label=f"{name}", markersize=4)
        if target is not None:
            axis.axhline(target, color="grey", linewidth=0.8, linestyle=":",
                         label="target" if kind == "vae" or key == "confidence" else None)
        if key == "fcd":
            axis.set_yscale("log")
        axis.set_xscale("log")
        seconds = [r["seconds"] for name in ("ours", "reference")
                   for r in data["parts"][kind].get(name, {}).get("rows", [])]
        if seconds:
            ticks = [t for t in (1, 2, 5, 10, 15, 30, 60, 120, 240, 600, 1200)
                     if min(seconds) / 1.6 <= t <= max(seconds) * 1.6]
            axis.set_xticks(ticks, [str(t) for t in ticks])
            axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xlabel("training seconds (log scale)")
        axis.set_title(title, fontsize=10)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(f"Quality vs training time, {data['date']} "
                    f"({data['machine']['platform'].split(',')[1].strip()})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """Rows of a rerun replace the old rows of the same notebook (and mode); others stay."""
    def key(row):
        return row["assignment"], row.get("mode")
    replaced = {key(r) for r in new}
    return [r for r in old if key(r) not in replaced] + new


def write(data: dict, settings: dict, output: Path) -> str:
    """The report, its JSON and its PNG; returns the report."""
    text = report(data, settings)
    output.write_text(text)
    output.with_suffix(".json").write_text(json.dumps(data, indent=1, default=str) + "\n")
    plot(data, output.with_suffix(".png"))
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run, of {', '.join(PARTS + EXTRA_PARTS)} "
                             f"(default: {', '.join(PARTS)})")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets and only 00_setup: a smoke test of about a minute")
    parser.add_argument("--gan-notebook", type=Path, default=quality.GAN_NOTEBOOK,
                        help="notebook whose benchmark-config cell is 'ours' for the GAN")
    parser.add_argument("--vae-notebook", type=Path, default=quality.VAE_NOTEBOOK,
                        help="notebook whose benchmark-config cell is 'ours' for the VAE")
    parser.add_argument("--modes", help="notebook modes to time, e.g. test (default: test,demo; "
                        "--quick: test)")
    parser.add_argument("--notebooks", help="assignments to time and autograde, e.g. "
                        "02_vae,04_gan (default: all; --quick: 00_setup)")
    parser.add_argument("--pairs", type=int, help="with/without runs of each training cell "
                        "for the live-view cost (default: 3; --quick: 1)")
    parser.add_argument("--class-size", type=int, help="submissions per autograded class "
                        "(default: 2)")
    parser.add_argument("--jobs", help="parallel jobs to autograde each class with, e.g. 2 "
                        "(default: 1,2; --quick: 2)")
    parser.add_argument("--vae-threshold", type=float, default=VAE_THRESHOLD,
                        help="VAE target in nats (default: ours after 60 s in the same run)")
    parser.add_argument("--rewrite", action="store_true",
                        help="only rewrite the report and PNG from the existing JSON")
    parser.add_argument("--update", action="store_true",
                        help="rerun only the --only parts and merge them into the existing report "
                             "(its JSON), e.g. after changing a notebook's benchmark-config")
    parser.add_argument("--output", type=Path,
                        help="Markdown report path (the PNG and JSON go beside it)")
    args = parser.parse_args(argv)
    selected = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(selected) - set(PARTS) - set(EXTRA_PARTS))
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from "
                     f"{', '.join(PARTS + EXTRA_PARTS)}")
    settings = dict(QUICK if args.quick else FULL, gan_notebook=args.gan_notebook.resolve(),
                    vae_notebook=args.vae_notebook.resolve(), vae_threshold=args.vae_threshold)
    if args.modes:
        settings["modes"] = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.class_size:
        settings["class_size"] = args.class_size
    if args.jobs:
        settings["jobs"] = tuple(int(j) for j in args.jobs.split(",") if j.strip())
    if args.pairs:
        settings["liveview_pairs"] = args.pairs
    if args.notebooks:
        settings["notebooks"] = [n.strip() for n in args.notebooks.split(",") if n.strip()]
    if args.output is None:
        full = not args.quick and (set(selected) == set(PARTS) or args.update or args.rewrite)
        folder = RESULTS if full else Path(tempfile.mkdtemp(prefix="benchmarks-"))
        args.output = folder / "latest.md"
    args.output.parent.mkdir(parents=True, exist_ok=True)

    if args.rewrite:
        data = json.loads(args.output.with_suffix(".json").read_text())
        print(write(data, settings, args.output))
        return 0
    started, load_start = time.time(), _load()
    runners = {"notebooks": run_notebooks, "liveview": run_liveview,
               "autograde": run_autograde, "gan": run_gan, "vae": run_vae, "scale": run_scale}
    command = "python -m benchmarks.run" + (" --quick" if args.quick else "") + (
        f" --only {','.join(selected)}" if set(selected) != set(PARTS) else "")
    parts, part_minutes, part_loads, part_dates = {}, {}, {}, {}
    if args.update and args.output.with_suffix(".json").exists():
        previous = json.loads(args.output.with_suffix(".json").read_text())
        parts, part_minutes = previous["parts"], previous["part_minutes"]
        part_loads, part_dates = previous["part_loads"], previous.get("part_dates", {})
        for part in parts:
            part_dates.setdefault(part, previous["date"])
        command = previous["command"] + "; then " + " ".join(argv or sys.argv[1:])
    for part in (p for p in RUN_ORDER if p in selected):
        part_start, part_loads[part] = time.time(), _load()
        part_dates[part] = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC")
        measured = _safe(part, runners[part], settings)
        if args.update and isinstance(measured, list) and isinstance(parts.get(part), list):
            measured = _merge_rows(parts[part], measured)
        parts[part] = measured
        part_minutes[part] = (time.time() - part_start) / 60
        data = {"command": command, "minutes": (time.time() - started) / 60,
                "date": datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M UTC"),
                "load_start": load_start, "load_end": _load(), "machine": machine(),
                "parts": parts, "part_minutes": part_minutes, "part_loads": part_loads,
                "part_dates": part_dates,
                "pending": [p for p in RUN_ORDER if p in selected and p not in parts]}
        text = write(data, settings, args.output)  # After every part: a stopped run keeps them.
    print(text)
    log(f"wrote {args.output} and {args.output.with_suffix('.png').name} beside it")
    failed = [p for p, v in parts.items() if _has_error(v)]
    if failed:
        log(f"FAILED parts: {', '.join(failed)}")
    return 1 if failed else 0


def _has_error(value) -> bool:
    if isinstance(value, dict):
        return "error" in value or any(_has_error(v) for v in value.values()
                                       if isinstance(v, dict))
    if isinstance(value, list):
        return any(isinstance(v, dict) and v.get("error") for v in value)
    return False


if __name__ == "__main__":
    sys.exit(main())
