"""`flowers predict`: the pushed SavedModel fed raw image bytes, as a serving client would; or, with
--tflite, a pushed TensorFlow Lite model fed decoded pixels, as an app would."""
from __future__ import annotations

import glob
import os

from components.signatures import CLASS_NAMES, IMAGE_BYTES, PROBABILITIES, SERVING_IMAGES
from pipeline.summary import latest_pushed_model

TFLITE_PREFERENCE = ("int8", "float16")  # the format `--tflite` picks from a version folder, in order


def expand(patterns: list[str]) -> list[str]:
    """Files and globs → file paths, in the order given; a pattern matching nothing is kept, to be reported."""
    paths = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if any(ch in pattern for ch in "*?[") else [pattern]
        paths.extend(matches or [pattern])
    return paths


class NotAModelError(ValueError):
    """--model names a folder that is not a model `flowers predict` can use."""


def find_model(model_dir: str | None, serving_root: str) -> str:
    """`model_dir` (a SavedModel folder, or a serving root: its newest version), else the newest
    version under `serving_root`; NotAModelError when that folder is not this project's model."""
    path = model_dir or serving_root
    if not os.path.exists(os.path.join(path, "saved_model.pb")):
        path = latest_pushed_model(path)
    if not path:
        raise FileNotFoundError(f"no pushed model in {model_dir or serving_root}: run `flowers run` first "
                                "or pass --model DIR (a SavedModel folder, or a serving folder of versions)")
    check_model(path)
    return path


def check_model(path: str) -> None:
    """Reads only PATH/saved_model.pb: a flowers model's SERVING_IMAGES signature takes a batch of image bytes."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    graph = os.path.join(path, "saved_model.pb")
    try:
        with open(graph, "rb") as f:
            model = saved_model_pb2.SavedModel.FromString(f.read())
    except (OSError, DecodeError) as error:
        raise NotAModelError(f"cannot read {graph}: {getattr(error, 'strerror', None) or error}") from None
    signature = next((g.signature_def[SERVING_IMAGES] for g in model.meta_graphs
                      if SERVING_IMAGES in g.signature_def), None)
    image = signature.inputs.get(IMAGE_BYTES) if signature else None
    if image is None or image.dtype != types_pb2.DT_STRING or {PROBABILITIES, CLASS_NAMES} - set(signature.outputs):
        raise NotAModelError(f"{path} is not a flowers model (no {SERVING_IMAGES} taking image bytes as "
                             f"{IMAGE_BYTES!r} and returning probabilities and class names)")


def predict(model_dir: str, paths: list[str], top_k: int = 3) -> list[dict]:
    """One result per path: {"path", "top": [(label, probability), ...]} or {"path", "error"}."""
    import tensorflow as tf

    serve = tf.saved_model.load(model_dir).signatures[SERVING_IMAGES]
    results = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                out = serve(**{IMAGE_BYTES: tf.constant([f.read()])})
        except (OSError, tf.errors.InvalidArgumentError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not a decodable image"
            results.append({"path": path, "error": reason})
            continue
        probabilities = out[PROBABILITIES].numpy()[0]
        names = [n.decode() for n in out[CLASS_NAMES].numpy()[0]]
        order = probabilities.argsort()[::-1][:top_k]
        results.append({"path": path, "top": [(names[i], float(probabilities[i])) for i in order]})
    return results


def find_tflite(model_dir: str) -> str:
    """The int8 model in version folder `model_dir`, else its float16 one; FileNotFoundError naming
    why there is none."""
    from components.tflite import FILE_NAMES

    for fmt in TFLITE_PREFERENCE:
        path = os.path.join(model_dir, FILE_NAMES[fmt])
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"no TFLite model in {model_dir}: none was within the accuracy limit of the SavedModel "
                            "when it was pushed (the run's summary says why), or the run had --no-tflite")


def tflite_labels(tflite_path: str) -> list[str]:
    """The class names of a TFLite model: the labels file beside it, one a line in output order."""
    from data.flowers import LABELS_FILE

    path = os.path.join(os.path.dirname(tflite_path), LABELS_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no {LABELS_FILE} beside {tflite_path}: the class names of its outputs")
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def predict_tflite(tflite_path: str, paths: list[str], top_k: int = 3) -> list[dict]:
    """As `predict`, with a TFLite model: each image decoded and resized as in training (Transform's
    own function), then classified alone."""
    import tensorflow as tf

    from components.tflite import Classifier
    from components.transform import decode_and_resize

    if not os.path.isfile(tflite_path):
        raise FileNotFoundError(f"no TFLite model at {tflite_path}")
    with open(tflite_path, "rb") as f:
        classifier = Classifier(f.read())
    names = tflite_labels(tflite_path)
    results = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                pixels = decode_and_resize(tf.constant(f.read()), classifier.image_size).numpy()
        except (OSError, tf.errors.InvalidArgumentError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not a decodable image"
            results.append({"path": path, "error": reason})
            continue
        probabilities = classifier.probabilities(pixels)
        order = probabilities.argsort()[::-1][:top_k]
        results.append({"path": path, "top": [(names[i], float(probabilities[i])) for i in order]})
    return results
