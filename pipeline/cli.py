"""The `flowers` command. Thin: parses flags into a RunConfig and calls functions tests call too."""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import pipeline  # noqa: F401  (sets TF_USE_LEGACY_KERAS before anything imports TensorFlow)

# Keep the console readable: TensorFlow's C++ start-up chatter and Google client deprecation notes.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
warnings.filterwarnings("ignore", category=FutureWarning)

MODEL_NAMES = ("convnet", "dense", "mobilenet_v2", "squeezenet", "xception")  # = models.MODEL_NAMES


def _positive_int(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum of {minimum}")
        return value
    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.01:  # 1.01: 'never bless', a deliberate way to test the gate
        raise argparse.ArgumentTypeError(f"{value} is outside 0..1")
    return value


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    from data.flowers import default_data_dir

    defaults = _default_config()
    parser.add_argument("--data", default=default_data_dir(),
                        help="TFRecord folder or glob, local or gs:// (default: the embedded synthetic set); "
                             "a folder with train/ and eval/ sub-folders uses them as the splits; one with "
                             "span-1/, span-2/, ... reads the newest span")
    parser.add_argument("--spans", type=_positive_int(1), default=defaults.spans,
                        help="train and evaluate on the newest N spans ingested so far, a rolling window "
                             "(default %(default)s)")
    parser.add_argument("--model", default=defaults.train.model, choices=MODEL_NAMES,
                        help="architecture (default %(default)s)")
    parser.add_argument("--epochs", type=_positive_int(1), help="training epochs (default: the model's own)")
    parser.add_argument("--batch-size", type=_positive_int(1), help="per-replica batch (default: the model's own)")
    parser.add_argument("--learning-rate", type=float, help="fixed learning rate (default: the model's own schedule)")
    parser.add_argument("--image-size", type=_positive_int(32), default=defaults.train.image_size,
                        help="square side in pixels, >= 32 (default %(default)s)")
    parser.add_argument("--weights", help="imagenet | none | PATH to a .h5 file or a folder of them "
                                          "(default: imagenet for mobilenet_v2 and xception)")
    parser.add_argument("--min-accuracy", type=_fraction, default=defaults.min_accuracy,
                        help="eval accuracy a model needs to be blessed (default %(default)s)")
    parser.add_argument("--max-regression", type=_fraction, default=defaults.max_regression,
                        help="how far below the last blessed model's accuracy a new one may be (default %(default)s)")
    parser.add_argument("--patience", type=_positive_int(1),
                        help="epochs without a better eval accuracy before training stops (default: the model's own)")
    parser.add_argument("--no-augment", action="store_true", help="train without augmentation")
    parser.add_argument("--random-crop", action=argparse.BooleanOptionalAction,
                        help="random crops in the augmentation (default: on for squeezenet, off for the others)")
    parser.add_argument("--saturation", action=argparse.BooleanOptionalAction,
                        help="random saturation in the augmentation (default: on, off for mobilenet_v2)")
    parser.add_argument("--seed", type=int, help="seed for repeatable training")
    parser.add_argument("--infer-schema", action="store_true",
                        help="let SchemaGen infer the schema instead of importing the curated one")
    parser.add_argument("--tpu", help="TPU name or grpc:// address (default: none; GPUs and CPU are found)")
    parser.add_argument("--output", default=defaults.output, help="output root: pipeline artifacts, MLMD, logs "
                                                                 "(default %(default)s)")
    parser.add_argument("--serving-dir", help="where blessed models are pushed (default OUTPUT/serving)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on the last line")


def _default_config():
    from pipeline.config import RunConfig
    return RunConfig()


def config_from_args(args: argparse.Namespace):
    """Flags → RunConfig (paths made absolute, so every component sees the same ones)."""
    from data import flowers
    from pipeline.config import RunConfig, TrainConfig

    data = args.data if "://" in args.data else os.path.abspath(args.data)
    train = TrainConfig(model=args.model, image_size=args.image_size, epochs=args.epochs,
                        batch_size=args.batch_size, learning_rate=args.learning_rate,
                        weights=_weights_flag(args.weights), augment=not args.no_augment,
                        random_crop=args.random_crop, saturation=args.saturation, seed=args.seed, tpu=args.tpu,
                        early_stopping_patience=args.patience)
    return RunConfig(data=data, output=os.path.abspath(args.output),
                     serving_dir=os.path.abspath(args.serving_dir) if args.serving_dir else None,
                     infer_schema=args.infer_schema, min_accuracy=args.min_accuracy,
                     max_regression=args.max_regression, split_folders=flowers.has_split_folders(data),
                     span_folders=flowers.has_span_folders(data), spans=args.spans, train=train)


def _weights_flag(value: str | None) -> str | None:
    if value is None or value in ("imagenet", "none") or "://" in value:
        return value
    return os.path.abspath(value)


def print_summary(summary: dict, as_json: bool) -> None:
    print("\nComponents:")
    for c in summary["components"]:
        print(f"  {c['name']:<32} {c['state']:<9} {c['seconds']:>7.1f}s")
    accuracy = summary["accuracy"]
    print(f"Eval accuracy: {accuracy:.3f}" if accuracy is not None else "Eval accuracy: n/a")
    if summary.get("baseline_accuracy") is not None:
        print(f"Baseline (last blessed) accuracy: {summary['baseline_accuracy']:.3f}")
    for label, value in summary.get("per_class_accuracy", {}).items():
        print(f"  {label:<12} {value:.3f}")
    if summary.get("spans") not in (None, [0]):  # span 0: data without span folders
        print(f"Spans: {', '.join(map(str, summary['spans']))}")
    print(f"Blessed: {'yes' if summary['blessed'] else 'no'}")
    print(f"Pushed to: {summary['pushed_model_dir']}" if summary["pushed"] else "Pushed: nothing")
    if summary.get("tensorboard_dir"):
        print(f"TensorBoard: tensorboard --logdir {summary['tensorboard_dir']}")
    if as_json:
        print(json.dumps(summary, sort_keys=True))


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline import local

    summary = local.run(config_from_args(args))
    print_summary(summary, args.json)
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    from pipeline import local

    summary = local.retrain(config_from_args(args))
    if summary["retrained"]:
        print_summary(summary, as_json=False)
        print(f"Decision: {summary['decision']}")
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from pipeline import predict

    model_dir = predict.find_model(args.model, os.path.join(os.path.abspath(args.output), "serving"))
    results = predict.predict(model_dir, predict.expand(args.images), args.top_k)
    if args.json:
        print(json.dumps({"model": model_dir, "predictions": results}))
    else:
        print(f"model: {model_dir}")
        for result in results:
            if "error" in result:
                print(f"{result['path']}: error: {result['error']}")
            else:
                print(f"{result['path']}: " + ", ".join(f"{label} {p:.1%}" for label, p in result["top"]))
    return 1 if any("error" in r for r in results) else 0


def cmd_report(args: argparse.Namespace) -> int:
    import logging

    from pipeline import report

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # TFMA's deprecation notes on loading results
    print(report.write_report(os.path.abspath(args.output), args.report_dir and os.path.abspath(args.report_dir),
                              _default_config().pipeline_name))
    return 0


def cmd_data_synth(args: argparse.Namespace) -> int:
    from data.synth import write_synth

    result = write_synth(args.out_dir, per_class=args.per_class, seed=args.seed, size=args.size)
    print(json.dumps(result, default=str, indent=1))
    return 0


def cmd_data_convert(args: argparse.Namespace) -> int:
    from data.convert import convert

    result = convert(args.src_dir, args.out_dir, size=args.size, shards=args.shards)
    print(f"wrote {result['total']} records to {args.out_dir}"
          + (f"; skipped {len(result['skipped'])} unreadable images" if result["skipped"] else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowers", description="Train, check and ship a flower classifier with TFX.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the whole TFX pipeline locally (Beam, MLMD in SQLite)")
    add_run_flags(run)
    run.set_defaults(func=cmd_run)

    retrain = sub.add_parser("retrain", help="run the pipeline only if --data holds a span no model was evaluated "
                                             "on; push only if it does not trail the blessed model")
    add_run_flags(retrain)
    retrain.set_defaults(func=cmd_retrain)

    predict = sub.add_parser("predict", help="classify image files with the latest pushed model")
    predict.add_argument("images", nargs="+", metavar="IMAGE_OR_GLOB")
    predict.add_argument("--model", help="SavedModel folder, or a serving folder of versions (its newest) "
                                         "(default: the newest version under OUTPUT/serving)")
    predict.add_argument("--output", default=_default_config().output, help="output root of `flowers run` (default %(default)s)")
    predict.add_argument("--top-k", type=_positive_int(1), default=3)
    predict.add_argument("--json", action="store_true", help="print the predictions as one JSON object")
    predict.set_defaults(func=cmd_predict)

    report = sub.add_parser("report", help="write an HTML report of the latest run: curves, confusion matrix, "
                                           "eval images, data statistics, lineage")
    report.add_argument("--output", default=_default_config().output, help="output root of `flowers run` (default %(default)s)")
    report.add_argument("--report-dir", help="where to write index.html and its PNGs (default OUTPUT/report)")
    report.set_defaults(func=cmd_report)

    data = sub.add_parser("data", help="make flower TFRecords: convert photo folders, or synthesize a set")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="DATA_COMMAND")
    synth = data_sub.add_parser("synth", help="write a deterministic synthetic five-class flowers set")
    synth.add_argument("out_dir")
    synth.add_argument("--per-class", type=_positive_int(1), default=60)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--size", type=_positive_int(32), default=192)
    synth.set_defaults(func=cmd_data_synth)
    convert = data_sub.add_parser("convert", help="class folders of JPEG/PNG photos → TFRecords in the public layout")
    convert.add_argument("src_dir")
    convert.add_argument("out_dir")
    convert.add_argument("--size", type=_positive_int(32), default=192)
    convert.add_argument("--shards", type=_positive_int(1), default=16)
    convert.set_defaults(func=cmd_data_convert)

    from pipeline.cli_kubeflow import add_kubeflow_commands  # here: it imports this module

    add_kubeflow_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one clear line for the user; the full trace is in the run log
        if os.environ.get("FLOWERS_DEBUG"):
            raise
        print(f"flowers {args.command}: error: {_root_cause(error)}", file=sys.stderr)
        return 1


def _root_cause(error: BaseException) -> str:
    """The innermost project error in a chain (TFX and Beam wrap executor errors)."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    ours = [e for e in chain if type(e).__module__.split(".")[0] in ("components", "pipeline", "data", "models")]
    chosen = ours[-1] if ours else chain[-1]
    return f"{type(chosen).__name__}: {chosen}"


if __name__ == "__main__":
    sys.exit(main())
