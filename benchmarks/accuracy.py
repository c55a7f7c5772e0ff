"""Accuracy of one architecture, trained by the real pipeline on the 2,932 real photos.

    .venv/bin/python benchmarks/accuracy.py --model mobilenet_v2 [--fine-tune] [--data ../shared/flowers]
                                            [--epochs N] [any flag of `flowers run`]

Prints model, epochs run (per phase with --fine-tune), eval accuracy (overall and per class), Trainer
wall time, whole-run time and the hardware. The eval split is the pipeline's own hash split, which
the Trainer never trains on and no setting was chosen on (those were chosen on validation cuts of
the training photos: benchmarks/cut.py).
"""
import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

# The repo root first on the path, not benchmarks/ (whose pipeline.py would shadow the package).
sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks import common  # noqa: E402  (first: it quiets TensorFlow's start-up log)
import models  # noqa: E402
from pipeline import flags, local  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    flags.add_run_flags(parser)
    parser.set_defaults(data=str(common.DATA), output=None)
    args = parser.parse_args()
    if args.weights is None and models.training_defaults(args.model)["weights"] == "imagenet":
        args.weights = str(common.SHARED / "weights")  # offline copy of the ImageNet weights
    args.output = args.output or tempfile.mkdtemp(prefix=f"bench-{args.model}-")
    summary = local.run(flags.config_from_args(args), report=lambda line: print(line, flush=True))
    trainer = next(c for c in summary["components"] if c["name"] == "Trainer")
    history = json.loads((Path(summary["tensorboard_dir"]) / "history.json").read_text())
    print("\n| model | image size | epochs run | eval accuracy | Trainer s | whole run s | hardware |")
    print("|---|---|---|---|---|---|---|")
    per_phase = [history.get("phase", []).count(p) for p in dict.fromkeys(history.get("phase", []))]
    epochs = " + ".join(map(str, per_phase)) if len(per_phase) > 1 else str(len(history["loss"]))
    model = args.model + (" --fine-tune" if len(per_phase) > 1 else "")
    print(f"| {model} | {args.image_size} | {epochs} | {summary['accuracy']:.3f} | "
          f"{trainer['seconds']:.0f} | {summary['seconds']:.0f} | {common.hardware()} |")
    print("per class: " + ", ".join(f"{k} {v:.3f}" for k, v in summary["per_class_accuracy"].items()))
    print(f"accuracy={summary['accuracy']:.4f}")


if __name__ == "__main__":
    main()
