"""Wall time and peak memory of `flowers run` against a plain script that reads, trains, evaluates, saves.

    .venv/bin/python benchmarks/pipeline.py [--data ../shared/flowers] [--limit N] [--epochs 3]
                                            [--model convnet] [--image-size 192] [--batch-size B]
                                            [--beam MODE] [--pipeline-only] [--keep] [--stock-keras]

Pipeline side: `flowers run --data D --model M --epochs N --image-size S --json` in a fresh process on a
fresh output root (nothing cached), broken down per component (MLMD's seconds, the run's summary).
Plain side: a fresh process doing what a hand-written script does with the same epochs, batch, size
and model: the source material's tf.data reader (benchmarks/common.py:plain_dataset) over the raw
records with a 7:1:2 hash split, model.fit with the validation split as validation data, model.evaluate
on the eval split,
model.save; like the Trainer, it skips AutoGraph's conversion of tf_keras itself (`--stock-keras`: it
does not). Both are timed from process start to exit; memory is the peak of the summed PSS of the
process tree (Beam workers included) and the largest single process's max RSS. The size on disk of
the examples per image is read from the run's artifacts.

`--beam MODE` runs the pipeline with other Beam arguments than pipeline/local.py's (in_memory,
multi_processing:N, multi_threading:N) to measure the per-component cost of Beam's workers;
`--keep` keeps the run's output root (benchmarks/trainer.py --pipeline-output reuses it).
Last line: ratio = flowers run wall time ÷ plain script wall time (target ≤ 1.3).
"""
import os

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# The repo root first on the path, not benchmarks/ (whose pipeline.py would shadow the package).
sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks import common  # noqa: E402


def plain_script(spec: dict) -> dict:
    """read → train → evaluate → save, as a hand-written Keras script does it."""
    import tensorflow as tf

    import models
    from data import flowers

    started = time.time()
    common.plain_keras_setup(spec["stock_keras"])
    files = flowers.list_record_files(spec["data"])
    size, batch = spec["image_size"], spec["batch_size"]
    train = common.plain_dataset(files, size, batch, training=True, split=flowers.TRAIN_SPLIT)
    validation = common.plain_dataset(files, size, batch, split=flowers.VALIDATION_SPLIT)
    model = models.build(spec["model"], size, len(flowers.CLASS_NAMES), weights=spec["weights"])
    model.compile(optimizer=tf.keras.optimizers.Adam(spec["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train, validation_data=validation, epochs=spec["epochs"], verbose=0)
    fitted = time.time()
    _, accuracy = model.evaluate(common.plain_dataset(files, size, batch, split=flowers.EVAL_SPLIT), verbose=0)
    evaluated = time.time()
    model.save(spec["save_to"])
    return {"fit_s": fitted - started, "evaluate_s": evaluated - fitted, "save_s": time.time() - evaluated,
            "accuracy": accuracy}


def run_with_beam(mode: str, flowers_args: list[str]) -> int:
    """`flowers` with pipeline/local.py's Beam arguments replaced by `mode`."""
    from pipeline import cli, local

    running, _, workers = mode.partition(":")
    extra = [f"--direct_num_workers={workers}"] if workers else []
    local.beam_args = lambda *_: [f"--direct_running_mode={running}", *extra, local.NO_WORKER_PACKAGE]
    return cli.main(flowers_args)


def per_image_bytes(output: str) -> tuple[float, int]:
    """(bytes/image of ImportExampleGen's GZIP records, images) of the run under `output`: the only
    copy of the data the pipeline writes (Transform exports its graph, not transformed examples)."""
    raw = common.component_outputs(output, "ImportExampleGen")["examples"]
    images = common.count_records(list(common.example_files(output).values()))
    return common.directory_bytes(raw) / images, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(common.DATA), help="raw records (default %(default)s)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (default: all)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--model", default="convnet")
    parser.add_argument("--image-size", type=int, default=192)
    parser.add_argument("--batch-size", type=int, help="default: the model's own")
    parser.add_argument("--beam", help="Beam running mode instead of pipeline/local.py's: in_memory, "
                                       "multi_processing:N or multi_threading:N")
    parser.add_argument("--pipeline-only", action="store_true", help="skip the plain script")
    parser.add_argument("--stock-keras", action="store_true",
                        help="let the plain script convert tf_keras with AutoGraph, as a stock script does "
                             "(default: skip it, as the Trainer does)")
    parser.add_argument("--keep", action="store_true", help="keep the run's output root and print it")
    parser.add_argument("--plain", help=argparse.SUPPRESS)  # child process: the plain script's spec
    parser.add_argument("--beam-child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:
        print(json.dumps(plain_script(json.loads(args.plain))), flush=True)
        return
    if args.beam_child:
        sys.exit(run_with_beam(args.beam_child[0], args.beam_child[1:]))

    from components.trainer import resolve_hyperparameters
    from pipeline import local
    from pipeline.config import RunConfig, TrainConfig

    tmp = tempfile.mkdtemp(prefix="bench-pipeline-")
    data = common.write_slice(args.data, args.limit, os.path.join(tmp, "data"))
    output = os.path.join(tmp, "run")
    flowers_args = ["run", "--data", data, "--output", output, "--model", args.model, "--epochs", str(args.epochs),
                    "--image-size", str(args.image_size), "--json",
                    "--patience", str(args.epochs)]  # every epoch runs, as in the plain script
    if args.batch_size:
        flowers_args += ["--batch-size", str(args.batch_size)]
    command = ([sys.executable, __file__, "--beam-child", args.beam, *flowers_args] if args.beam
               else [common.FLOWERS, *flowers_args])
    log = os.path.join(tmp, "flowers-run.log")
    print(f"timing: {' '.join(command)} (log {log}) ...", file=sys.stderr, flush=True)
    run = common.checked(common.run_measured(command, log), log)
    summary = common.last_json_line(log)
    raw_bytes, images = per_image_bytes(output)

    plain = None
    if not args.pipeline_only:
        hp = resolve_hyperparameters(RunConfig(train=TrainConfig(
            model=args.model, image_size=args.image_size, epochs=args.epochs, batch_size=args.batch_size)).trainer_config())
        spec = {"data": data, "image_size": args.image_size, "epochs": args.epochs, "model": args.model,
                "batch_size": hp["batch_size"], "learning_rate": hp["learning_rate"], "weights": hp["weights"],
                "save_to": os.path.join(tmp, "plain_model"), "stock_keras": args.stock_keras}
        plain_log = os.path.join(tmp, "plain.log")
        print(f"timing: the plain script (log {plain_log}) ...", file=sys.stderr, flush=True)
        plain = common.checked(common.run_measured([sys.executable, __file__, "--plain", json.dumps(spec)],
                                                   plain_log), plain_log)
        plain.update(common.last_json_line(plain_log))

    trainer_s = next(c["seconds"] for c in summary["components"] if c["name"] == "Trainer")
    print(f"\n{args.model}, {args.image_size} px, {args.epochs} epochs, {images} photos, Beam "
          f"{args.beam or ' '.join(local.beam_args(RunConfig().beam_workers, local.data_bytes(data)))}; "
          f"{common.hardware()}")
    print(common.table(["component", "seconds"],
                       [[c["name"], f"{c['seconds']:.1f}"] for c in summary["components"]]
                       + [["(all components, LocalDagRunner)", f"{summary['seconds']:.1f}"]]))
    print()
    rows = [["flowers run", f"{run['seconds']:.1f}", f"Trainer {trainer_s:.1f}", f"{run['seconds'] - trainer_s:.1f}",
             f"{run['peak_pss_mb']:.0f}", f"{run['max_rss_mb']:.0f}", f"{summary['accuracy']:.3f}"]]
    if plain:
        rows.append(["plain script", f"{plain['seconds']:.1f}", f"fit {plain['fit_s']:.1f}",
                     f"{plain['seconds'] - plain['fit_s']:.1f}", f"{plain['peak_pss_mb']:.0f}",
                     f"{plain['max_rss_mb']:.0f}", f"{plain['accuracy']:.3f}"])
    print(common.table(["", "wall s", "training s", "everything else s", "peak memory MiB (PSS, all processes)",
                        "largest process MiB (max RSS)", "eval accuracy"], rows))
    print(f"fixed overhead of the pipeline (everything but the Trainer): {run['seconds'] - trainer_s:.1f} s")
    print(f"examples on disk: {raw_bytes / 1024:.1f} KiB/image (ImportExampleGen, GZIP JPEG); the Trainer caches "
          f"{args.image_size ** 2 * 3 / 1024:.1f} KiB/image of uint8 pixels in memory")
    if args.keep:
        print(f"kept: {output} (benchmarks/trainer.py --pipeline-output {output})")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if plain:
        print(f"ratio={run['seconds'] / plain['seconds']:.2f}")


if __name__ == "__main__":
    main()
