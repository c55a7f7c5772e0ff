"""The flags every command that runs the pipeline shares (run, retrain, compile), and the
flag-value parsers of the `flowers` command. Imports neither TensorFlow nor TFX: `flowers --help`
and flag errors stay instant."""
from __future__ import annotations

import argparse
import math
import os

from components import input_cache
from models import MODEL_NAMES, check_fine_tune


# The largest --image-size: a 1024-pixel square is 3 MiB as the Trainer caches it (uint8) and 12 MiB
# as the model reads it (float32); 100,000 pixels a side would be 30 GB an image.
MAX_IMAGE_SIZE = 1024
MAX_LEARNING_RATE = 1.0  # Adam's steps diverge far below this; anything above is a typo


def positive_int(minimum: int, maximum: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum of {minimum}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{value} is above the maximum of {maximum}")
        return value
    return parse


def learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 < value <= MAX_LEARNING_RATE):
        raise argparse.ArgumentTypeError(f"{text} is outside (0, {MAX_LEARNING_RATE:g}]: above 0 and at most "
                                         f"{MAX_LEARNING_RATE:g}")
    return value


def location(text: str) -> str:
    """A --data value: not empty (an empty path would silently mean the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: name a folder, a file or a glob of TFRecords")
    return text


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.01:  # 1.01: 'never bless', a deliberate way to test the gate
        raise argparse.ArgumentTypeError(f"{value} is outside 0..1")
    return value


def accuracy_drop(text: str) -> float:
    """--tflite-max-drop: -1..1 (a negative drop demands that a TFLite model beat the SavedModel)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is outside -1..1")
    return value


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    from data.flowers import default_data_dir

    defaults = default_config()
    parser.add_argument("--data", type=location, default=default_data_dir(),
                        help="TFRecord folder or glob, local or gs:// (default: the embedded synthetic set), "
                             "hash-split 7:1:2 into train, validation and eval; a folder with train/ and eval/ "
                             "sub-folders uses them as the splits, validation cut from train/ (1 record in 8); "
                             "one with span-1/, span-2/, ... reads the newest span. A labels.txt beside the "
                             "records names the classes (`flowers data convert` writes it; none: the five flowers)")
    parser.add_argument("--spans", type=positive_int(1), default=defaults.spans,
                        help="train and evaluate on the newest N spans ingested so far, a rolling window "
                             "(default %(default)s)")
    parser.add_argument("--model", default=defaults.train.model, choices=MODEL_NAMES,
                        help="architecture (default %(default)s)")
    parser.add_argument("--epochs", type=positive_int(1), help="training epochs, of the first phase with --fine-tune (default: the model's own)")
    parser.add_argument("--batch-size", type=positive_int(1), help="per-replica batch (default: the model's own)")
    parser.add_argument("--learning-rate", type=learning_rate,
                        help=f"fixed learning rate, in (0, {MAX_LEARNING_RATE:g}], of the first phase with "
                             "--fine-tune (default: the model's own schedule)")
    parser.add_argument("--image-size", type=positive_int(32, MAX_IMAGE_SIZE), default=defaults.train.image_size,
                        help=f"square side in pixels, 32 to {MAX_IMAGE_SIZE} (default %(default)s)")
    parser.add_argument("--weights", help="imagenet | none | PATH to a .h5 file or a folder of them "
                                          "(default: imagenet for mobilenet_v2 and xception)")
    parser.add_argument("--min-accuracy", type=fraction, default=defaults.min_accuracy,
                        help="eval accuracy a model needs to be blessed (default %(default)s)")
    parser.add_argument("--max-regression", type=fraction, default=defaults.max_regression,
                        help="how far below the last blessed model's accuracy a new one may be (default %(default)s)")
    parser.add_argument("--no-tflite", action="store_true",
                        help="write no TensorFlow Lite models (default: float16 and int8 models, scored on the eval "
                             "split and pushed beside the SavedModel when within --tflite-max-drop of its accuracy)")
    parser.add_argument("--tflite-max-drop", type=accuracy_drop, default=defaults.tflite_max_drop,
                        help="how far below the SavedModel's eval accuracy a TFLite model may be and still be "
                             "pushed (default %(default)s: one point)")
    parser.add_argument("--patience", type=positive_int(1),
                        help="epochs without a better validation accuracy before training stops "
                             "(default: the model's own)")
    parser.add_argument("--no-augment", action="store_true", help="train without augmentation")
    parser.add_argument("--random-crop", action=argparse.BooleanOptionalAction,
                        help="random crops in the augmentation (default: on for squeezenet, off for the others)")
    parser.add_argument("--saturation", action=argparse.BooleanOptionalAction,
                        help="random saturation in the augmentation (default: on, off for mobilenet_v2)")
    parser.add_argument("--fine-tune", action=argparse.BooleanOptionalAction,
                        help="after training the head on the frozen base, train the base's top blocks too at a "
                             "low learning rate (mobilenet_v2; default: off)")
    parser.add_argument("--fine-tune-epochs", type=positive_int(1),
                        help="epochs of the fine-tuning phase (default: the model's own)")
    parser.add_argument("--cache", choices=input_cache.MODES, default=defaults.train.cache,
                        help="where the Trainer keeps decoded images between epochs: memory, disk (a temporary "
                             "local file, under TMPDIR), none (decode every epoch), or auto: memory when the "
                             "splits fit half the available memory, else disk, else none (default %(default)s)")
    parser.add_argument("--seed", type=int, help="seed for repeatable training")
    parser.add_argument("--accept-drift", action="store_true",
                        help="let this run train on a span that drifted from the data the served model was "
                             "trained on past a threshold of data/schema/drift.pbtxt (default: the run stops "
                             "before Transform, naming the feature)")
    parser.add_argument("--infer-schema", action="store_true",
                        help="let SchemaGen infer the schema instead of importing the curated one")
    parser.add_argument("--tpu", help="TPU name or grpc:// address (default: none; GPUs and CPU are found)")
    parser.add_argument("--output", default=defaults.output, help="output root: pipeline artifacts, MLMD, logs "
                                                                 "(default %(default)s)")
    parser.add_argument("--serving-dir", help="where blessed models are pushed (default OUTPUT/serving)")
    parser.add_argument("--beam-arg", action="append", default=[], metavar="ARG", dest="beam_args",
                        help="a Beam pipeline option for every Beam-powered step (ImportExampleGen, StatisticsGen, "
                             "RecordCheck, Transform, Evaluator); repeat it, e.g. --beam-arg=--runner=DataflowRunner "
                             "--beam-arg=--project=P --beam-arg=--region=R --beam-arg=--temp_location=gs://B/tmp "
                             "(default: Beam's DirectRunner, in-process for small data, a process per core above)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on the last line")


def default_config():
    from pipeline.config import RunConfig
    return RunConfig()


def config_from_args(args: argparse.Namespace):
    """Flags → RunConfig (paths made absolute, so every component sees the same ones)."""
    from data import flowers
    from pipeline.config import RunConfig, TrainConfig

    if args.fine_tune:
        check_fine_tune(args.model)
    data = args.data if "://" in args.data else os.path.abspath(args.data)
    span_folders = flowers.has_span_folders(data)
    train = TrainConfig(model=args.model, image_size=args.image_size, epochs=args.epochs,
                        batch_size=args.batch_size, learning_rate=args.learning_rate,
                        weights=weights_flag(args.weights), augment=not args.no_augment,
                        random_crop=args.random_crop, saturation=args.saturation, seed=args.seed, tpu=args.tpu,
                        early_stopping_patience=args.patience, fine_tune=args.fine_tune,
                        fine_tune_epochs=args.fine_tune_epochs, cache=args.cache)
    return RunConfig(data=data, output=os.path.abspath(args.output),
                     serving_dir=os.path.abspath(args.serving_dir) if args.serving_dir else None,
                     infer_schema=args.infer_schema, accept_drift=args.accept_drift, min_accuracy=args.min_accuracy,
                     max_regression=args.max_regression, tflite=not args.no_tflite,
                     tflite_max_drop=args.tflite_max_drop, split_folders=flowers.has_split_folders(data),
                     span_folders=span_folders, span_width=flowers.span_width(data) if span_folders else 0,
                     spans=args.spans, beam_args=tuple(args.beam_args), train=train)


def weights_flag(value: str | None) -> str | None:
    if value is None or value in ("imagenet", "none") or "://" in value:
        return value
    return os.path.abspath(value)
