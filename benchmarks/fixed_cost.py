"""Where a small `flowers run` spends its seconds outside training: process start, imports, each step's
driver, executor and publisher, teardown. One or more checkouts side by side, in alternation.

    .venv/bin/python benchmarks/fixed_cost.py [--tree DIR ...] [--repeat N] [--data data/default]
                                              [--model convnet] [--epochs 1] [--image-size 64]
                                              [--cprofile DIR] [--keep]

Each run is `flowers run` (pipeline.cli.main, as the command calls it) in a fresh process on a fresh
output root, with the code of one `--tree` (default: this checkout) first on its path. The child
times, by wrapping TFX's own functions (the run itself is unchanged):
- interpreter start: from the parent's spawn to the child's first line;
- imports: `pipeline.local` and everything it imports, as `flowers run` does before running;
- before the DAG: the output lock, the data's layout and the whole-record check (pipeline.local);
- DAG build and compile: `create_pipeline` and TFX's compiler (Pipeline → IR);
- per step: the launcher's input resolution and driver (`_prepare_execution`), executor
  (`_run_executor`), publisher (`_publish_successful_execution`) and the rest of `launch`;
- summary: reading the run back from MLMD (pipeline.summary);
- teardown: from the run's end (summary printed) to the process's exit (the parent's clock).
Fixed cost = wall time - the Trainer's executor. With `--repeat N` every figure is the median of N
runs per tree; the trees alternate so that both see the same load. `--cprofile DIR` also writes a
cProfile of each child (DIR/<tree>-<i>.prof) for `python -m pstats`.

The import figure of the local run path is measured on its own as well: `python -X importtime -c
"import pipeline.local"` (the cumulative time of the root import, which load affects less than wall
time), and `flowers --help` is checked to import neither TensorFlow nor TFX.

Measured 2026-12-02 on 2 CPU cores shared with other full test runs (load 2-7, so every figure is
inflated several times; only the ratios mean much), `--tree <integrate 01e0cee> --tree <04ad564>
--repeat 2`, medians, seconds before → after: import pipeline.local (-X importtime) 29.4 → 20.9;
ImportExampleGen 10.5 → 5.3, StatisticsGen 21.2 → 17.2, RecordCheck 8.6 → 3.9, Transform 13.5 → 7.1
(TFX no longer packages itself for the DirectRunner), Evaluator 22.3 → 15.2 (one model load fewer),
teardown 5.2 → 0.3; wall 142.4 → 99.3, fixed cost (wall - Trainer executor) 113.9 → 72.5.
What remains is mostly TensorFlow, Beam and TFMA's own imports (tfx.components loads them all, and
LocalDagRunner's input resolution imports it) and Beam building and running each step's pipeline
(DoFn pickling and signature inspection, a bundle per stage), in TFX's and TFDV's code.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Packages worth knowing whether a step loaded: the whole of tfx.v1, Google Cloud clients, Kubeflow's.
HEAVY = ("tensorflow", "tfx", "apache_beam", "tensorflow_model_analysis", "tfx.v1", "tfx.v1.extensions",
         "google.cloud.aiplatform", "google.cloud.bigquery", "kfp")
LAUNCHER_PHASES = {"_prepare_execution": "driver", "_run_executor": "executor",
                   "_publish_successful_execution": "publisher"}


def child(out_path: str, spawned: float, flowers_args: list[str], cprofile: str | None) -> None:
    """Runs `flowers` here with timers around TFX's launcher; writes the figures to `out_path`."""
    first_line = time.time()
    import components  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)

    started = time.perf_counter()
    from pipeline import cli, local

    figures: dict = {"interpreter start": first_line - spawned, "imports": time.perf_counter() - started,
                     "steps": {}}
    from tfx.dsl.compiler import compiler
    from tfx.orchestration.portable import launcher

    def timed(owner, name: str, record) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                record(args, time.perf_counter() - began)
        setattr(owner, name, wrapper)

    def add(key: str):
        return lambda _, seconds: figures.__setitem__(key, figures.get(key, 0.0) + seconds)

    def step_phase(phase: str):
        def record(args, seconds):
            node = args[0]._pipeline_node.node_info.id
            step = figures["steps"].setdefault(node, {})
            step[phase] = step.get(phase, 0.0) + seconds
        return record

    timed(local, "_prepare", add("before the DAG"))
    timed(local, "check_records", add("before the DAG"))
    timed(local, "create_pipeline", add("DAG build"))
    timed(compiler.Compiler, "compile", add("compile to IR"))
    timed(local, "read_summary", add("summary from MLMD"))
    timed(launcher.Launcher, "launch", step_phase("total"))
    for method, phase in LAUNCHER_PHASES.items():
        timed(launcher.Launcher, method, step_phase(phase))

    profile = None
    if cprofile:
        import cProfile

        profile = cProfile.Profile()

    def done(_, seconds):  # the run and its summary are done; what follows is teardown
        import threading

        if profile:
            profile.disable()
            profile.dump_stats(cprofile)
        figures.update(main=seconds, returned=time.time(), loaded=[name for name in HEAVY if name in sys.modules],
                       threads=[t.name for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()])
        Path(out_path).write_text(json.dumps(figures))

    timed(cli, "cmd_run", done)
    if profile:
        profile.enable()
    # As the installed command calls it (argv from the process), so that its own way of ending counts.
    sys.argv = ["flowers", *flowers_args]
    sys.exit(cli.main())


def run_once(tree: str, args: argparse.Namespace, work: str, index: int) -> dict:
    """One `flowers run` with `tree`'s code in a fresh process; its figures."""
    output = os.path.join(work, f"run-{index}")
    figures_path = os.path.join(work, f"figures-{index}.json")
    log = os.path.join(work, f"run-{index}.log")
    flowers_args = ["run", "--data", args.data, "--output", output, "--model", args.model,
                    "--epochs", str(args.epochs), "--image-size", str(args.image_size), "--patience", str(args.epochs)]
    profile = os.path.join(args.cprofile, f"{Path(tree).name}-{index}.prof") if args.cprofile else ""
    env = {**os.environ, "PYTHONPATH": tree, "TF_CPP_MIN_LOG_LEVEL": "3"}
    spawned = time.time()
    with open(log, "w") as out:
        code = subprocess.call([sys.executable, __file__, "--child", figures_path, str(spawned), profile, tree,
                                *flowers_args], stdout=out, stderr=subprocess.STDOUT, env=env)
    exited = time.time()
    if code:
        sys.exit(f"flowers run with {tree} failed ({code}); see {log}")
    figures = json.loads(Path(figures_path).read_text())
    figures["teardown"] = exited - figures.pop("returned")
    figures["wall"] = exited - spawned
    if not args.keep:
        shutil.rmtree(output, ignore_errors=True)
    return figures


def flatten(figures: dict) -> dict:
    """One row per figure: the phases, each step's total and executor, all steps' drivers and publishers."""
    steps = figures.pop("steps")
    rows = {key: figures[key] for key in ("interpreter start", "imports", "before the DAG", "DAG build",
                                          "compile to IR")}
    for node, phases in steps.items():
        rows[f"{node}"] = phases["total"]
        if "executor" in phases:
            rows[f"  {node} executor"] = phases["executor"]
    for phase in ("driver", "publisher"):
        rows[f"all steps: {phase}s"] = sum(p.get(phase, 0.0) for p in steps.values())
    rows["all steps: launcher, rest"] = sum(p["total"] - sum(p.get(ph, 0.0) for ph in LAUNCHER_PHASES.values())
                                            for p in steps.values())
    rows["rest of the run (lock, logging, runner)"] = (figures["main"] - sum(p["total"] for p in steps.values())
                                              - figures.get("before the DAG", 0.0) - figures["DAG build"]
                                              - figures["compile to IR"] - figures["summary from MLMD"])
    rows["summary from MLMD"] = figures["summary from MLMD"]
    rows["teardown"] = figures["teardown"]
    rows["wall"] = figures["wall"]
    rows["fixed cost (wall - Trainer executor)"] = figures["wall"] - steps.get("Trainer", {}).get("executor", 0.0)
    return rows


def import_seconds(tree: str, module: str) -> tuple[float, list[str]]:
    """(cumulative seconds of `import module` by -X importtime, heavy packages it loaded)."""
    env = {**os.environ, "PYTHONPATH": tree, "TF_CPP_MIN_LOG_LEVEL": "3"}
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import components, {module}"],
                         env=env, cwd=tree, capture_output=True, text=True, check=True).stderr  # -c: cwd first on the path
    total, loaded = 0, []
    for line in err.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if not match:
            continue
        name = match.group(3)
        if len(match.group(2)) == 1:  # a top-level import of the -c line
            total += int(match.group(1))
        if name in HEAVY:
            loaded.append(name)
    return total / 1e6, sorted(set(loaded))


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
              for r in rows]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        out_path, spawned, profile, tree, *flowers_args = sys.argv[2:]
        sys.path[0] = tree  # the tree's packages, not benchmarks/ (whose pipeline.py would shadow them)
        child(out_path, float(spawned), flowers_args, profile or None)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", help="a checkout of this project (repeatable; default: this one)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tree; figures are medians")
    parser.add_argument("--data", default=str(ROOT / "data" / "default"))
    parser.add_argument("--model", default="convnet")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--cprofile", help="folder for a cProfile of each run")
    parser.add_argument("--keep", action="store_true", help="keep each run's output root (printed)")
    args = parser.parse_args()
    trees = [str(Path(t).resolve()) for t in (args.tree or [ROOT])]
    args.data = str(Path(args.data).resolve())
    if args.cprofile:
        os.makedirs(args.cprofile, exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-fixed-cost-")

    imports = {tree: [] for tree in trees}
    help_loads, run_loads, threads = {}, {}, {}
    runs = {tree: [] for tree in trees}
    index = 0
    for _ in range(args.repeat):
        for tree in trees:
            imports[tree].append(import_seconds(tree, "pipeline.local"))
            help_loads[tree] = import_seconds(tree, "pipeline.cli")[1]
            print(f"run {index}: {tree} ...", file=sys.stderr, flush=True)
            figures = run_once(tree, args, work, index)
            run_loads[tree] = figures.pop("loaded")
            threads[tree] = figures.pop("threads")
            runs[tree].append(flatten(figures))
            index += 1
    if args.keep:
        print(f"kept: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)

    names = list(dict.fromkeys(name for tree in trees for figures in runs[tree] for name in figures))
    median = {tree: {name: statistics.median(f.get(name, 0.0) for f in runs[tree]) for name in names}
              for tree in trees}
    print(f"\nflowers run --data {args.data} --model {args.model} --epochs {args.epochs} --image-size "
          f"{args.image_size}; {os.cpu_count()} CPU cores; median of {args.repeat} run(s) per tree; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    header = ["seconds", *(Path(t).name for t in trees)]
    rows = [["import pipeline.local (-X importtime)",
             *(f"{statistics.median(s for s, _ in imports[t]):.2f}" for t in trees)],
            ["  heavy packages it loads", *(" ".join(imports[t][0][1]) or "-" for t in trees)],
            ["  flowers --help loads", *(" ".join(help_loads[t]) or "nothing heavy" for t in trees)],
            ["  loaded by the run's end", *(" ".join(sorted(run_loads[t])) for t in trees)],
            ["non-daemon threads after the run", *(" ".join(threads[t]) or "none" for t in trees)]]
    rows += [[name, *(f"{median[t][name]:.1f}" for t in trees)] for name in names]
    print(table(header, rows))


if __name__ == "__main__":
    main()
