"""Images/s of training inside the Trainer's run_fn against a plain Keras model.fit, same model and data.

    .venv/bin/python benchmarks/trainer.py [--data ../shared/flowers] [--limit N] [--epochs 3]
                                           [--model convnet] [--image-size 192] [--repeats 1]
                                           [--cache auto] [--pipeline-output DIR] [--stock-keras]

1. The examples (ImportExampleGen's splits) and the transform graph come from a real run: `flowers run --epochs 1` on the
   data (or its first `--limit` records) into a temp dir, or the run under `--pipeline-output`
   (e.g. one kept by benchmarks/pipeline.py --keep). Their URIs are read from that run's MLMD.
2. Pipeline side: a fresh process calls components.trainer.run_fn with a tfx FnArgs over those
   train/validation splits, the schema and the transform graph (which run_fn applies to the raw
   records), the run's own TrainConfig (`--epochs`, `--cache`), and exports the model as the Trainer
   does. Its input only decodes; the augmentation (flip, saturation, and crops for squeezenet) runs in
   the model's training step (models.augment). Epoch ends are the wall times of the Trainer's
   TensorBoard summaries.
3. Plain side: a fresh process builds the same model (models.build), batch and learning rate, reads
   ImportExampleGen's train/validation splits of the same run (the same records) with the source
   material's tf.data reader (benchmarks/common.py:plain_dataset: parse, decode_jpeg, resize, cache,
   shuffle, flip + saturation, batch, prefetch) and calls model.fit with the same validation data.
   Like the Trainer, it skips AutoGraph's conversion of tf_keras itself (`--stock-keras`: it does not).
Epoch 1 is timed from the start of the work (datasets, model, graph tracing, the uncached first read)
to its end, on both sides, and reported on its own; the later epochs (traced, cached) are compared.
Each round runs the Trainer, then the plain script, so a change in the load of shared cores falls on
both; the ratio of each round is printed, and the last lines are their medians:
ratio_cpu = the same by CPU seconds (each process's, every thread, sampled against the epoch ends):
the work alone, which the load of shared cores hardly moves;
ratio = Trainer images/s ÷ plain Keras images/s over epochs 2..N (target ≥ 0.95 with --epochs 8).
Every epoch includes its validation pass on both sides; images/s counts train images.
"""
import os

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# The repo root first on the path, not benchmarks/ (whose pipeline.py would shadow the package).
sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks import common  # noqa: E402
from data import flowers  # noqa: E402


def pipeline_side(spec: dict) -> dict:
    """components.trainer.run_fn, as the Trainer calls it, over the run's examples and transform graph."""
    from tfx import v1 as tfx

    from components import trainer

    files = spec["example_files"]
    fn_args = tfx.components.FnArgs(
        working_dir=spec["work"], train_files=[files[flowers.TRAIN_SPLIT]],
        eval_files=[files[flowers.VALIDATION_SPLIT]], schema_path=spec["schema"],
        transform_graph_path=spec["transform_graph"],
        transform_output=spec["transform_graph"], serving_model_dir=os.path.join(spec["work"], "serving"),
        model_run_dir=os.path.join(spec["work"], "model_run"), custom_config=spec["trainer_config"])
    started, cpu = time.time(), common.CpuClock()
    trainer.run_fn(fn_args)
    done = time.time()
    cpu.stop()
    ends = common.tensorboard_epoch_ends(fn_args.model_run_dir)
    return {**common.epoch_figures(started, ends, spec["train_images"], cpu), "after_fit_s": done - ends[-1]}


def plain_side(spec: dict) -> dict:
    """A hand-written Keras script: the source material's reader, model.fit, model.save."""
    import tensorflow as tf

    import models

    hp, size = spec["hyperparameters"], spec["trainer_config"]["image_size"]
    started, cpu = time.time(), common.CpuClock()
    common.plain_keras_setup(spec["stock_keras"])
    files = spec["example_files"]
    train = common.plain_dataset(tf.io.gfile.glob(files[flowers.TRAIN_SPLIT]), size, hp["batch_size"], training=True)
    validation = common.plain_dataset(tf.io.gfile.glob(files[flowers.VALIDATION_SPLIT]), size, hp["batch_size"])
    model = models.build(hp["model"], size, spec["classes"], weights=hp["weights"])
    model.compile(optimizer=tf.keras.optimizers.Adam(hp["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = common.EpochEnds()
    model.fit(train, validation_data=validation, epochs=hp["epochs"], callbacks=[timer], verbose=0)
    model.save(os.path.join(spec["work"], "plain_model"))
    cpu.stop()
    return {**common.epoch_figures(started, timer.ends, spec["train_images"], cpu),
            "after_fit_s": time.time() - timer.ends[-1]}


def prepare(args, tmp: str) -> str:
    """The output root of a finished `flowers run` whose examples and transform graph the sides use."""
    if args.pipeline_output:
        return os.path.abspath(args.pipeline_output)
    data = common.write_slice(args.data, args.limit, os.path.join(tmp, "data"))
    output, log = os.path.join(tmp, "run"), os.path.join(tmp, "run.log")
    print(f"preparing: flowers run --epochs 1 on {data} (log {log}) ...", file=sys.stderr, flush=True)
    common.checked(common.run_measured(
        [common.FLOWERS, "run", "--data", data, "--output", output, "--model", args.model,
         "--image-size", str(args.image_size), "--epochs", "1", "--json"], log), log)
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(common.DATA), help="raw records (default %(default)s)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (default: all)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per side (default %(default)s; >= 2)")
    parser.add_argument("--model", default="convnet")
    parser.add_argument("--image-size", type=int, default=192)
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds of (Trainer, plain); the table shows the best, the ratio the median")
    parser.add_argument("--cache", default="auto", help="the Trainer's --cache (default %(default)s)")
    parser.add_argument("--pipeline-output", help="reuse the run under this output root instead of a new one")
    parser.add_argument("--stock-keras", action="store_true",
                        help="let the plain side convert tf_keras with AutoGraph, as a stock script does "
                             "(default: skip it, as the Trainer does)")
    parser.add_argument("--side", choices=("pipeline", "plain"), help=argparse.SUPPRESS)  # child process
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        spec = json.loads(args.spec)
        print(json.dumps((pipeline_side if args.side == "pipeline" else plain_side)(spec)), flush=True)
        return
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: epochs 2..N are the ones compared")

    from tfx.utils import io_utils

    from components.trainer import resolve_hyperparameters
    from pipeline.config import RunConfig, TrainConfig

    with tempfile.TemporaryDirectory(prefix="bench-trainer-") as tmp:
        output = prepare(args, tmp)
        transform = common.component_outputs(output, "Transform")
        example_files = common.example_files(output)
        schema = io_utils.get_only_uri_in_dir(common.component_outputs(output, "CuratedSchemaGen")["schema"])
        # The run's own image size: its transform graph is fixed to it.
        config = RunConfig(train=TrainConfig(model=args.model, image_size=args.image_size, epochs=args.epochs,
                                             cache=args.cache))
        spec = {"transform_graph": transform["transform_graph"], "example_files": example_files, "schema": schema,
                "classes": len(flowers.class_names(io_utils.SchemaReader().read(schema))),
                "trainer_config": config.trainer_config(), "stock_keras": args.stock_keras,
                "hyperparameters": resolve_hyperparameters(config.trainer_config()),
                "train_images": common.count_records([example_files[flowers.TRAIN_SPLIT]])}
        results: dict[str, list[dict]] = {"pipeline": [], "plain": []}
        for round_ in range(args.repeats):
            for side in ("pipeline", "plain"):
                work = os.path.join(tmp, f"{side}{round_}")
                os.makedirs(work)
                log = os.path.join(tmp, f"{side}{round_}.log")
                print(f"timing {side} side, round {round_ + 1} ...", file=sys.stderr, flush=True)
                command = [sys.executable, __file__, "--side", side, "--spec", json.dumps({**spec, "work": work})]
                common.checked(common.run_measured(command, log), log)
                results[side].append(common.last_json_line(log))

    best = {side: max(runs, key=lambda r: r["steady_ips"]) for side, runs in results.items()}
    hp = spec["hyperparameters"]
    print(f"\n{hp['model']}, {args.image_size} px, batch {hp['batch_size']}, {args.epochs} epochs, "
          f"{spec['train_images']} train images, best of {args.repeats}; {common.hardware()}")
    rows = []
    for side, name in (("pipeline", "Trainer run_fn"), ("plain", "plain Keras model.fit")):
        r = best[side]
        rows.append([name, f"{r['first_s']:.1f}", f"{r['first_ips']:.0f}", f"{r['steady_s']:.1f}",
                     f"{r['steady_ips']:.0f}", f"{r['after_fit_s']:.1f}"])
    print(common.table(["side", "epoch 1 s (incl. build, tracing)", "epoch 1 images/s",
                        "epochs 2..N s (mean)", "epochs 2..N images/s", "export s"], rows))
    for side, name in (("pipeline", "Trainer run_fn"), ("plain", "plain Keras model.fit")):
        print(f"{name}, seconds per epoch: {' '.join(f'{s:.1f}' for s in best[side]['epoch_s'])}")
    for key, what in (("first_ips", "epoch 1 ratio (build, tracing and first read on both sides)"),
                      ("steady_ips", "epochs 2..N ratio"),
                      ("first_ips_cpu", "epoch 1 ratio by CPU seconds (images per CPU second)"),
                      ("steady_ips_cpu", "epochs 2..N ratio by CPU seconds")):
        per_round = [p[key] / q[key] for p, q in zip(results["pipeline"], results["plain"])]
        print(f"{what}, per round: {' '.join(f'{r:.2f}' for r in per_round)}; "
              f"median {statistics.median(per_round):.2f}, range {min(per_round):.2f}–{max(per_round):.2f}")
    for key, name in (("steady_ips_cpu", "ratio_cpu"), ("steady_ips", "ratio")):
        print(f"{name}={statistics.median(p[key] / q[key] for p, q in zip(results['pipeline'], results['plain'])):.2f}")


if __name__ == "__main__":
    main()
