"""Seconds per 1,000 images and peak memory as the data grows: sets of 1×, 4× and 10× the real flower
set (2,932 photos) through the data steps and one Trainer epoch.

    .venv/bin/python benchmarks/scale.py [--unit 2932] [--scales 1,4,10] [--image-size 192]
                                         [--model convnet] [--cache disk] [--trainer-epochs 2]
                                         [--source DIR]

1. One unit of `--unit` images is drawn once with data/synth.py at `--image-size` px (or taken from
   the records under `--source`, e.g. ../shared/flowers); the set of scale s holds s copies of every
   record, one file per copy, so every size has the same images in the same proportions (ImportExampleGen
   hashes each record: the copies land in the same split) and per-image costs compare across sizes.
2. Per size, in fresh processes, one after the other:
   - `flowers run --epochs 1 --cache C --min-accuracy 0` on a fresh output root: the seconds of every
     component (MLMD), the run's wall time and its peak memory (summed PSS of the process tree);
   - the Trainer alone over that run's examples and transform graph (benchmarks/trainer.py's pipeline
     side: components.trainer.run_fn, `--trainer-epochs` epochs): epoch 1 (model build, tracing, the
     first read through Transform's graph into the cache), the later epochs (read from the cache),
     and the peak memory of that process, which holds the cache when it is in memory.
Seconds per 1,000 images count every image for the data steps, train images for the Trainer and eval
images for the Evaluator. The last lines give, per column, the largest per-1,000 figure over the
smallest (goal: within 1.2), the cost of each further 1,000 images between consecutive sizes (equal
when time grows linearly; a fixed cost, such as model build and tracing, inflates the smallest
size's per-1,000 figure without breaking that), and the Trainer's peak memory at the largest size
over the smallest (goal on the disk path: flat). The cores are shared with whatever else runs.
"""
import os

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

# The repo root first on the path, not benchmarks/ (whose pipeline.py would shadow the package).
sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks import common  # noqa: E402

TRAINER_BENCHMARK = str(Path(__file__).with_name("trainer.py"))
NOT_DATA_STEPS = {"Trainer", "Evaluator", "Pusher"}


def draw_unit(args, tmp: str) -> list[bytes]:
    """The serialized records of one unit."""
    import tensorflow as tf

    from data import flowers
    from data.synth import write_synth

    if args.source:
        files = flowers.list_record_files(args.source)
    else:
        out = os.path.join(tmp, "unit")
        print(f"drawing {args.unit} synthetic images ...", file=sys.stderr, flush=True)
        files = write_synth(out, per_class=math.ceil(args.unit / len(flowers.CLASS_NAMES)), size=args.image_size,
                            shards=1)["files"]
    records = list(tf.data.TFRecordDataset(files).take(args.unit).as_numpy_iterator())
    if len(records) < args.unit:
        raise ValueError(f"--unit {args.unit}: only {len(records)} records to draw from")
    return records


def write_copies(records: list[bytes], copies: int, out_dir: str) -> None:
    import tensorflow as tf

    os.makedirs(out_dir)
    for copy in range(copies):
        with tf.io.TFRecordWriter(os.path.join(out_dir, f"copy{copy:03d}-{len(records)}.tfrec")) as writer:
            for record in records:
                writer.write(record)


def measure_size(args, records: list[bytes], scale: int, tmp: str) -> dict:
    from data import flowers
    from pipeline.config import RunConfig, TrainConfig

    data, output = os.path.join(tmp, f"data-{scale}x"), os.path.join(tmp, f"run-{scale}x")
    write_copies(records, scale, data)
    log = os.path.join(tmp, f"run-{scale}x.log")
    print(f"{scale}×: flowers run on {len(records) * scale} images (log {log}) ...", file=sys.stderr, flush=True)
    run = common.checked(common.run_measured(
        [common.FLOWERS, "run", "--data", data, "--output", output, "--model", args.model, "--epochs", "1",
         "--image-size", str(args.image_size), "--cache", args.cache, "--min-accuracy", "0", "--json"], log), log)
    seconds = {c["name"]: c["seconds"] for c in common.last_json_line(log)["components"]}

    example_files = common.example_files(output)
    train_images = common.count_records([example_files[flowers.TRAIN_SPLIT]])
    config = RunConfig(train=TrainConfig(model=args.model, image_size=args.image_size, epochs=args.trainer_epochs,
                                         cache=args.cache))
    work = os.path.join(tmp, f"trainer-{scale}x")
    os.makedirs(work)
    spec = {"transform_graph": common.component_outputs(output, "Transform")["transform_graph"],
            "example_files": example_files, "trainer_config": config.trainer_config(), "train_images": train_images,
            "work": work}
    log = os.path.join(tmp, f"trainer-{scale}x.log")
    print(f"{scale}×: the Trainer alone, {args.trainer_epochs} epochs (log {log}) ...", file=sys.stderr, flush=True)
    trainer = common.checked(common.run_measured(
        [sys.executable, TRAINER_BENCHMARK, "--side", "pipeline", "--spec", json.dumps(spec)], log), log)
    epochs = common.last_json_line(log)
    images = len(records) * scale
    return {"scale": scale, "images": images, "train_images": train_images, "eval_images": images - train_images,
            "data_mb": common.directory_bytes(data) / 1e6, "seconds": seconds, "run": run, "trainer": trainer,
            "epochs": epochs}


def per_thousand(seconds: float, images: int) -> float:
    return seconds / images * 1000


def columns(result: dict) -> dict[str, tuple[float, int]]:
    """{column: (seconds, images it counts)} of one size."""
    s, epochs = result["seconds"], result["epochs"]
    train, evaluation = result["train_images"], result["eval_images"]
    figures = {"data steps": (sum(v for k, v in s.items() if k not in NOT_DATA_STEPS), result["images"]),
               "Trainer (run, 1 epoch)": (s["Trainer"], train),
               "Evaluator": (s["Evaluator"], evaluation),
               "Trainer alone, epoch 1": (epochs["first_s"], train)}
    if epochs["epochs"] > 1:
        figures["Trainer alone, later epochs"] = (epochs["steady_s"], train)
    # The same in CPU seconds of the Trainer's process: the work alone, whatever else the cores run.
    figures["Trainer alone, epoch 1, CPU"] = (epochs["first_cpu_s"], train)
    if epochs["epochs"] > 1:
        figures["Trainer alone, later epochs, CPU"] = (epochs["steady_cpu_s"], train)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", type=int, default=2932, help="images in 1× (default %(default)s, the real set)")
    parser.add_argument("--scales", type=lambda text: [int(s) for s in text.split(",")], default=[1, 4, 10],
                        help="multiples of the unit, comma-separated (default 1,4,10)")
    parser.add_argument("--image-size", type=int, default=192)
    parser.add_argument("--model", default="convnet")
    parser.add_argument("--cache", default="disk", help="the Trainer's --cache (default %(default)s)")
    parser.add_argument("--trainer-epochs", type=int, default=2,
                        help="epochs of the Trainer alone (default %(default)s: the second reads the cache)")
    parser.add_argument("--source", help="records to take the unit from instead of drawing synthetic images")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        records = draw_unit(args, tmp)
        results = [measure_size(args, records, scale, tmp) for scale in args.scales]
    report(args, results)


def report(args, results: list[dict]) -> None:
    figures = [columns(r) for r in results]
    names = list(figures[0])
    print(f"\n{args.model}, {args.image_size} px, --cache {args.cache}, 1× = {args.unit} "
          f"{'records of ' + args.source if args.source else 'synthetic images'}; {common.hardware()}")
    header = ["scale", "images", "on disk MB", *(f"{n} s/1k" for n in names), "run wall s", "run peak MB",
              "Trainer alone peak MB"]
    rows = [[f"{r['scale']}×", r["images"], f"{r['data_mb']:.0f}",
             *(f"{per_thousand(*f[n]):.2f}" for n in names),
             f"{r['run']['seconds']:.0f}", f"{r['run']['peak_pss_mb']:.0f}", f"{r['trainer']['peak_pss_mb']:.0f}"]
            for r, f in zip(results, figures)]
    print(common.table(header, rows))
    print("Per column: the largest s/1k over the smallest (goal <= 1.2), and the cost of each further 1,000 "
          "images between consecutive sizes (the same all along when time grows linearly; what is left of "
          "the smallest size's time is fixed cost):")
    for name in names:
        values = [per_thousand(*f[name]) for f in figures]
        pairs = [(f[name], g[name]) for f, g in zip(figures, figures[1:])]
        marginal = [per_thousand(b[0] - a[0], b[1] - a[1]) for a, b in pairs]
        fixed = figures[0][name][0] - marginal[0] * figures[0][name][1] / 1000 if marginal else float("nan")
        print(f"  {name}: {max(values) / min(values):.2f}; further 1,000 images "
              f"{' then '.join(f'{m:.2f} s' for m in marginal)}; fixed {fixed:.0f} s")
    peaks = [r["trainer"]["peak_pss_mb"] for r in results]
    print(f"Trainer alone peak memory, largest size ÷ smallest: {peaks[-1] / peaks[0]:.2f} (goal on the disk path: ~1)")


if __name__ == "__main__":
    main()
