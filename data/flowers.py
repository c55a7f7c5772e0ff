"""The flowers TFRecord layout, defined once and imported everywhere else.

Public layout (gs://flowers-public/tfrecords-jpeg-192x192-2/): `image` JPEG bytes, `class` int64,
`label` bytes, `size` int64[2] (height, width), `one_hot_class` float[N].
"""
from __future__ import annotations

import os
import re
from typing import Sequence

CLASS_NAMES: tuple[str, ...] = ("daisy", "dandelion", "roses", "sunflowers", "tulips")

IMAGE_KEY = "image"
CLASS_KEY = "class"
LABEL_KEY = "label"
SIZE_KEY = "size"
ONE_HOT_KEY = "one_hot_class"

RECORD_PATTERN = "*.tfrec*"  # matches .tfrec, .tfrecord, .tfrecords; skips README/LICENSE beside them
# The class names, one a line in class-index order, beside the records (`flowers data convert` writes
# it). Data without one holds the five flowers (the public records, data/default).
LABELS_FILE = "labels.txt"
# Data that arrives over time: ROOT/span-1/, ROOT/span-2/, ... ({SPAN} is TFX's span spec; ImportExampleGen
# reads the highest-numbered one). Each span is a flat folder of records or holds train/ and eval/.
SPAN_FOLDER = "span-{SPAN}"
SPLITS = ("train", "eval")
# The pipeline's splits: the Trainer fits on `train` and early-stops on `validation`; only the
# Evaluator (and the report) read `eval`. Given train/ and eval/ folders, validation is cut from train.
TRAIN_SPLIT, VALIDATION_SPLIT, EVAL_SPLIT = "train", "validation", "eval"
_ANY_SPAN = "span-*"
_SPAN_RECORD_FOLDERS = (_ANY_SPAN, *(f"{_ANY_SPAN}/{split}" for split in SPLITS))  # glob patterns


def feature_spec(num_classes: int = len(CLASS_NAMES)) -> dict:
    """tf.io parsing spec of one record in the public layout."""
    import tensorflow as tf

    return {
        IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
        CLASS_KEY: tf.io.FixedLenFeature([], tf.int64),
        LABEL_KEY: tf.io.FixedLenFeature([], tf.string),
        SIZE_KEY: tf.io.FixedLenFeature([2], tf.int64),
        ONE_HOT_KEY: tf.io.FixedLenFeature([num_classes], tf.float32),
    }


def encode_example(jpeg: bytes, class_index: int, height: int, width: int,
                   class_names: Sequence[str] = CLASS_NAMES) -> bytes:
    """One serialized tf.train.Example in the public layout."""
    import tensorflow as tf

    if not 0 <= class_index < len(class_names):
        raise ValueError(f"class index {class_index} outside 0..{len(class_names) - 1}")
    one_hot = [0.0] * len(class_names)
    one_hot[class_index] = 1.0
    feature = {
        IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[jpeg])),
        CLASS_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[class_index])),
        LABEL_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[class_names[class_index].encode()])),
        SIZE_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[height, width])),
        ONE_HOT_KEY: tf.train.Feature(float_list=tf.train.FloatList(value=one_hot)),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def decode_example(serialized: bytes) -> dict:
    """A serialized record as plain Python values (for tools and tests, not the hot path)."""
    import tensorflow as tf

    example = tf.train.Example.FromString(serialized)
    feats = example.features.feature
    return {
        IMAGE_KEY: feats[IMAGE_KEY].bytes_list.value[0],
        CLASS_KEY: int(feats[CLASS_KEY].int64_list.value[0]),
        LABEL_KEY: feats[LABEL_KEY].bytes_list.value[0].decode(),
        SIZE_KEY: tuple(int(v) for v in feats[SIZE_KEY].int64_list.value),
        ONE_HOT_KEY: tuple(feats[ONE_HOT_KEY].float_list.value),
    }


def _is_glob(path: str) -> bool:
    """True for a pattern; a local folder whose name holds *, ? or [ (`flowers [v2]`) is taken
    literally. A trailing slash names a folder. A gs:// pattern is one without asking the bucket
    (none is reachable offline, at compile time)."""
    import tensorflow as tf

    if not any(ch in path for ch in "*?[") or path.endswith("/"):
        return False
    return "://" in path or not tf.io.gfile.isdir(path)


def glob_escape(path: str) -> str:
    """`path` as a glob that matches itself: every *, ? and [ inside brackets. TensorFlow's, Beam's
    and TFX's file matching (and TFX's span regex) all read [x] as the one character x."""
    return re.sub(r"([*?[])", r"[\1]", path)


def split_location(path: str) -> tuple[str, str]:
    """A directory, a single file or a glob (local or gs://) → (base directory as a glob that matches
    only itself, file pattern inside it): what ImportExampleGen's input_base and split patterns take."""
    import tensorflow as tf

    if _is_glob(path):
        base, pattern = path.rsplit("/", 1) if "/" in path else (".", path)
        return base, pattern
    if not path.endswith("/") and tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path):
        base, name = path.rsplit("/", 1) if "/" in path else (".", path)
        return glob_escape(base), glob_escape(name)
    return glob_escape(path.rstrip("/")), RECORD_PATTERN


def list_record_files(path: str) -> list[str]:
    """The record files a directory or glob names, sorted; works for gs:// through tf.io.gfile."""
    import tensorflow as tf

    base, pattern = split_location(path)
    return sorted(tf.io.gfile.glob(os.path.join(base, pattern)))


class DataLocationError(ValueError):
    """--data names no readable TFRecords; the message says which and why."""


def check_location(path: str, warn=None) -> list[str]:
    """The record files at `path` in its layout (span-N/ folders, train/ and eval/ folders, or flat),
    or one clear DataLocationError before any pipeline step runs.

    Catches what would otherwise fail deep inside ImportExampleGen: an empty folder, a glob that
    matches nothing, an unreachable bucket, span folders TFX cannot number. `warn(message)` hears of
    what the layout makes ImportExampleGen ignore. Whether the files are whole TFRecords is
    data.records' check (it reads every byte).
    """
    import tensorflow as tf

    if not path:
        raise DataLocationError("--data is empty: name a folder, a file or a glob of TFRecords")
    try:
        if has_span_folders(path):
            span_width(path, warn)
            files = _glob_in(path, _SPAN_RECORD_FOLDERS)
        elif has_split_folders(path):
            files = _glob_in(path, SPLITS)
        else:
            files = list_record_files(path)
    except (tf.errors.OpError, OSError) as error:
        raise DataLocationError(f"cannot list {path!r}: {getattr(error, 'message', error)}") from error
    if not files:
        raise DataLocationError(f"no TFRecord files in {path!r} (looked for {split_location(path)[1]}, "
                                "also in train/ and eval/ and span-N/ folders)")
    return files


def span_width(path: str, warn=None) -> int:
    """The digits of zero-padded span folders (span-01/, span-02/: 2), 0 for plain numbers (span-1/,
    span-10/); DataLocationError names a span-* folder that TFX cannot number (span-x/) or padded
    folders of mixed widths, which ImportExampleGen's {SPAN} match would fail on or misread.
    `warn(message)` names the entries beside the span folders that no run reads."""
    import tensorflow as tf

    root = path.rstrip("/")
    entries = [e.rstrip("/") for e in tf.io.gfile.listdir(root)]
    spans = [e for e in entries if e.startswith("span-") and tf.io.gfile.isdir(os.path.join(root, e))]
    bad = [e for e in spans if not e[len("span-"):].isdigit()]
    if bad:
        raise DataLocationError(
            f"span folders in {path} must be named span-N, N a whole number; not so: {', '.join(sorted(bad))} "
            "(TFX's ImportExampleGen numbers every span-* folder: rename or move these)")
    numbers = {e: e[len("span-"):] for e in spans}
    padded = sorted(e for e, n in numbers.items() if len(n) > 1 and n.startswith("0"))
    widths = {len(n) for n in numbers.values()}
    if padded and len(widths) > 1:
        raise DataLocationError(
            f"span folders in {path} mix zero-padded and other widths ({', '.join(sorted(spans))}): TFX's "
            "ImportExampleGen reads zero-padded span numbers of one width only; rename them to one width "
            "(e.g. span-01, span-02, span-10)")
    ignored = sorted(set(entries) - set(spans))
    if ignored and warn:
        warn(f"not read (only span-N/ folders are): {', '.join(os.path.join(root, e) for e in ignored)}")
    return widths.pop() if padded else 0


def span_pattern(width: int = 0) -> str:
    """The span folder as ImportExampleGen's {SPAN} spec: span-{SPAN}, or span-{SPAN:2} for span-01/."""
    return SPAN_FOLDER.replace("{SPAN}", f"{{SPAN:{width}}}") if width else SPAN_FOLDER


def default_data_dir() -> str:
    """The small synthetic dataset committed with the project, so `make run` works offline."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "default")


def schema_file() -> str:
    """The curated schema: what the records are meant to be (ImportSchemaGen reads it)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema", "schema.pbtxt")


def drift_schema_file() -> str:
    """The curated drift schema: how far a new span may drift from the served model's data
    (components/drift.py)."""
    return os.path.join(os.path.dirname(schema_file()), "drift.pbtxt")


def schema_feature_spec(path: str | None = None) -> dict:
    """The parsing spec a schema implies (the curated one by default), as Transform derives it for
    its graph: TFTransformOutput.raw_feature_spec() of a run with that schema."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tensorflow_transform.tf_metadata import schema_utils

    with open(path or schema_file()) as f:
        schema = text_format.Parse(f.read(), schema_pb2.Schema())
    return schema_utils.schema_as_feature_spec(schema).feature_spec


def class_names(schema) -> list[str]:
    """The class names in class-index order: the values of the `label` feature's string domain in a
    schema (tensorflow_metadata Schema proto), which lists them in that order."""
    (label,) = [f for f in schema.feature if f.name == LABEL_KEY]
    if label.HasField("string_domain"):
        return list(label.string_domain.value)
    domains = {d.name: d for d in schema.string_domain}
    if label.domain not in domains:
        raise ValueError(f"the schema gives feature {LABEL_KEY!r} no string domain: no class names")
    return list(domains[label.domain].value)


def _glob_in(path: str, folders) -> list[str]:
    """The record files in these sub-folders (glob patterns) of the folder `path`, sorted."""
    import tensorflow as tf

    root = glob_escape(path.rstrip("/"))
    return sorted(f for folder in folders for f in tf.io.gfile.glob(os.path.join(root, folder, RECORD_PATTERN)))


def set_class_names(schema, names: Sequence[str]) -> None:
    """Makes a schema (tensorflow_metadata Schema proto, in place) describe records of the classes
    `names`, in class-index order: the `label` string domain, the `class` range 0..N-1 and the
    `one_hot_class` length. `class_names(schema)` reads them back."""
    _check_class_names(names, "the class names")
    features = {f.name: f for f in schema.feature}
    label = features[LABEL_KEY]
    if label.HasField("string_domain"):
        domain = label.string_domain
    else:
        (domain,) = [d for d in schema.string_domain if d.name == label.domain] or [None]
        if domain is None:
            raise ValueError(f"the schema gives feature {LABEL_KEY!r} no string domain to hold the class names")
    domain.ClearField("value")
    domain.value.extend(names)
    features[CLASS_KEY].int_domain.min = 0
    features[CLASS_KEY].int_domain.max = len(names) - 1
    one_hot = features[ONE_HOT_KEY].shape
    one_hot.ClearField("dim")
    one_hot.dim.add().size = len(names)


def read_labels_file(path: str) -> list[str]:
    """The class names of a labels file (one a line, in class-index order), checked."""
    import tensorflow as tf

    with tf.io.gfile.GFile(path) as f:
        names = [line.strip() for line in f if line.strip()]
    _check_class_names(names, path)
    return names


def _check_class_names(names: Sequence[str], source: str) -> None:
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"{source} must list at least two distinct class names, one a line; it lists {list(names)}")


def labels_file(data: str, span: int = 0) -> str | None:
    """The labels file that names the classes of the records at `data` (a folder or glob, local or
    gs://), None when there is none (the records hold the five flowers).

    Looked for in the span-N/ folder of span `span` (when the data has span folders), then at the
    data root; at each, beside the records, else in the train/ and eval/ folders, where each copy
    must list the same classes (the class indices follow it)."""
    import tensorflow as tf

    base, _ = split_location(data)
    suffixes = {folder: folder.rstrip("/").rsplit("span-", 1)[-1]
                for folder in sorted(tf.io.gfile.glob(os.path.join(base, _ANY_SPAN)))} if span else {}
    roots = [folder for folder, suffix in suffixes.items() if suffix.isdigit() and int(suffix) == span]
    for root in [*roots, base]:
        if tf.io.gfile.exists(os.path.join(root, LABELS_FILE)):
            return os.path.join(root, LABELS_FILE)
        copies = [p for p in (os.path.join(root, split, LABELS_FILE) for split in SPLITS) if tf.io.gfile.exists(p)]
        lists = {tuple(read_labels_file(p)) for p in copies}
        if len(lists) > 1:
            raise ValueError(f"{' and '.join(copies)} list different classes, so the same class index would mean "
                             "different flowers in train and eval: convert both from the same set of class folders")
        if copies:
            return copies[0]
    return None


def has_split_folders(path: str) -> bool:
    """True when `path` (or each span-N/ in it) holds train/ and eval/ folders of records: given
    splits, no hashing."""
    if _is_glob(path):
        return False
    spans = (_ANY_SPAN + "/",) if has_span_folders(path) else ("",)
    return all(_glob_in(path, [span + split for span in spans]) for split in SPLITS)


def has_span_folders(path: str) -> bool:
    """True when `path` holds span-N/ folders of records (directly, or in their train/ and eval/)."""
    return not _is_glob(path) and bool(_glob_in(path, _SPAN_RECORD_FOLDERS))
