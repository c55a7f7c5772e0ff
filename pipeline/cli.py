"""The `flowers` command. Thin: parses flags into a RunConfig and calls functions tests call too."""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import pipeline  # noqa: F401  (sets TF_USE_LEGACY_KERAS before anything imports TensorFlow)
from pipeline import errors
from pipeline.cli_kubeflow import add_kubeflow_commands
from pipeline.flags import add_run_flags, config_from_args, default_config, positive_int

# Keep the console readable: TensorFlow's C++ start-up chatter and Google client deprecation notes.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
warnings.filterwarnings("ignore", category=FutureWarning)

def drift_line(drift: dict) -> str:
    """One line: the verdict of the drift gate and the largest distances against their thresholds."""
    if drift["note"]:
        return f"Drift: {drift['note']}"
    distances = ", ".join(f"{name} {value:.2f}/{drift['thresholds'][name][1]:g}"
                          for name, value in sorted(drift["distances"].items(), key=lambda item: -item[1]))
    return f"Drift against {drift['reference']}: {drift['verdict']} (distance/threshold: {distances})"


def print_summary(summary: dict, as_json: bool) -> None:
    print("\nComponents:")
    for c in summary["components"]:
        print(f"  {c['name']:<32} {c['state']:<9} {c['seconds']:>7.1f}s")
    if summary.get("split_sizes"):
        print("Records: " + ", ".join(f"{split} {count}" for split, count in summary["split_sizes"].items()))
    accuracy = summary["accuracy"]
    print(f"Eval accuracy: {accuracy:.3f}" if accuracy is not None else "Eval accuracy: n/a")
    if summary.get("baseline_accuracy") is not None:
        print(f"Baseline (last blessed) accuracy: {summary['baseline_accuracy']:.3f}")
    for label, value in summary.get("per_class_accuracy", {}).items():
        print(f"  {label:<12} {value:.3f}")
    if summary.get("drift"):
        print(drift_line(summary["drift"]))
    if summary.get("spans") not in (None, [0]):  # span 0: data without span folders
        print(f"Spans: {', '.join(map(str, summary['spans']))}")
    print(f"Blessed: {'yes' if summary['blessed'] else 'no'}")
    if summary["pushed"]:
        print(f"Pushed to: {summary['pushed_model_dir']}")
    elif summary.get("identical_to"):
        print(f"Pushed: nothing new (the model is identical to the newest pushed version, {summary['identical_to']})")
    else:
        print("Pushed: nothing")
    if summary.get("tflite"):
        from pipeline import summary as run_summary

        print(f"On-device models (eval split, {summary['tflite']['eval_images']} images, one at a time on this CPU):")
        for fmt, accuracy, size, latency, decision in run_summary.tflite_rows(summary["tflite"]):
            figures = (f"accuracy {accuracy:.3f} {size / 1e6:8.2f} MB {latency:7.2f} ms" if accuracy is not None
                       else f"{'':>40}")
            print(f"  {fmt:<12} {figures}  {decision}")
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

    serving = os.path.join(os.path.abspath(args.output), "serving")
    if args.tflite is None:
        model_dir = predict.find_model(args.model, serving)
        results = predict.predict(model_dir, predict.expand(args.images), args.top_k)
    else:  # a .tflite file named, or the one pushed in the version find_model picks
        model_dir = args.tflite or predict.find_tflite(predict.find_model(args.model, serving))
        results = predict.predict_tflite(model_dir, predict.expand(args.images), args.top_k)
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
                              default_config().pipeline_name))
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
    names = result["class_names"]
    print(f"{len(names)} classes ({', '.join(names)}), listed in {result['labels_file']}")
    return 0


def cmd_data_fetch(args: argparse.Namespace) -> int:
    from data import fetch

    return fetch.main(args.dest, args.mirror)


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
    predict.add_argument("--output", default=default_config().output, help="output root of `flowers run` (default %(default)s)")
    predict.add_argument("--tflite", nargs="?", const="", metavar="PATH",
                         help="use a TensorFlow Lite model: PATH, or without PATH the pushed int8 model (else "
                              "float16) in the version --model or OUTPUT/serving names; class names from the "
                              "labels.txt beside it")
    predict.add_argument("--top-k", type=positive_int(1), default=3)
    predict.add_argument("--json", action="store_true", help="print the predictions as one JSON object")
    predict.set_defaults(func=cmd_predict)

    report = sub.add_parser("report", help="write an HTML report of the latest run: curves, confusion matrix, "
                                           "eval images, data statistics, lineage")
    report.add_argument("--output", default=default_config().output, help="output root of `flowers run` (default %(default)s)")
    report.add_argument("--report-dir", help="where to write index.html and its PNGs (default OUTPUT/report)")
    report.set_defaults(func=cmd_report)

    data = sub.add_parser("data", help="make flower TFRecords: convert photo folders, or synthesize a set")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="DATA_COMMAND")
    synth = data_sub.add_parser("synth", help="write a deterministic synthetic five-class flowers set")
    synth.add_argument("out_dir")
    synth.add_argument("--per-class", type=positive_int(1), default=60)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--size", type=positive_int(32), default=192)
    synth.set_defaults(func=cmd_data_synth)
    convert = data_sub.add_parser("convert", help="class folders of JPEG/PNG photos → TFRecords in the public layout, "
                                                  "classes numbered in sorted folder order and listed in "
                                                  "OUT_DIR/labels.txt")
    convert.add_argument("src_dir")
    convert.add_argument("out_dir")
    convert.add_argument("--size", type=positive_int(32), default=192)
    convert.add_argument("--shards", type=positive_int(1), default=16)
    convert.set_defaults(func=cmd_data_convert)
    fetch = data_sub.add_parser("fetch", help="download the public flower photos and ImageNet weights, verify, "
                                              "convert: what the tests and benchmarks read")
    fetch.add_argument("--dest", help="default $FLOWERS_SHARED, else ../shared beside the checkout")
    fetch.add_argument("--mirror", help="fetch every file by its name from this URL (http(s):// or file://) "
                                        "instead of its origin; hashes are checked all the same")
    fetch.set_defaults(func=cmd_data_fetch)

    add_kubeflow_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `flowers` command (`argv` None: the process's own arguments), or one call of it (tests)."""
    code = _dispatch(argv)
    if argv is None and "tensorflow" in sys.modules:
        _exit_without_finalizing(code)
    return code


def _exit_without_finalizing(code: int) -> None:
    """Ends the process as soon as its work is done: after a run, the interpreter's finalization
    (tearing down TensorFlow's, Beam's and TFX's modules and objects) took 6-7 s of a small run on 2
    busy cores (2026-12-02, benchmarks/fixed_cost.py), keeping nothing. The exit handlers still run
    (the log's flush, the Trainer's cache folders' removal, temporary folders), then the streams flush."""
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _dispatch(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one clear line for the user; the full trace is in the run log
        if os.environ.get("FLOWERS_DEBUG"):
            raise
        print(f"flowers {args.command}: error: {errors.describe(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
