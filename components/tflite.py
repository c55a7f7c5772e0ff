"""On-device models: the trained Keras model as TensorFlow Lite, float16 and full-integer int8.

Both take decoded pixels, not JPEG bytes (TensorFlow Lite's builtin ops cannot decode images; an app
hands over camera pixels), at the training size: the float16 model takes float32 pixels 0..255 and
returns float32 class probabilities; the int8 model is integer from end to end, uint8 pixels 0..255 in,
uint8 probabilities out (scale 1/256; `Classifier` reads them back as fractions), calibrated on a
representative set drawn from the train split. Each is scored on the eval split and kept only within
an accuracy drop of the float model, so an app never ships a quantized model that lost the flowers.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable

import numpy as np
import tensorflow as tf

from components.signatures import SERVING_PIXELS

FORMATS = ("float16", "int8")
FILE_NAMES = {fmt: f"model_{fmt}.tflite" for fmt in FORMATS}
REPRESENTATIVE_IMAGES = 200  # calibration images for int8: enough for stable activation ranges


def convert(saved_model_dir: str, fmt: str, representative: np.ndarray | None = None) -> bytes:
    """The SavedModel's pixel signature (float32 pixels → probabilities; components/signatures.py)
    as a TFLite flatbuffer in `fmt`."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[SERVING_PIXELS])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if fmt == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif fmt == "int8":
        if representative is None or not len(representative):
            raise ValueError("an int8 model needs representative images from the train split")

        def calibration() -> Iterable[list[np.ndarray]]:
            for image in representative:
                yield [image[np.newaxis].astype(np.float32)]

        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    else:
        raise ValueError(f"unknown TFLite format {fmt!r}; expected one of {FORMATS}")
    return converter.convert()


class Classifier:
    """A TFLite model fed one image at a time, as an app would run it."""

    def __init__(self, flatbuffer: bytes):
        self.interpreter = tf.lite.Interpreter(model_content=flatbuffer, num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    @property
    def image_size(self) -> int:
        return int(self.input["shape"][1])

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 or float pixels 0..255 [size, size, 3] → class probabilities."""
        self.interpreter.set_tensor(self.input["index"], pixels[np.newaxis].astype(self.input["dtype"]))
        self.interpreter.invoke()
        values = self.interpreter.get_tensor(self.output["index"])[0]
        scale, zero_point = self.output["quantization"]
        if not scale:  # a float output
            return values
        return scale * (values.astype(np.float32) - zero_point)


def score(classify: Callable[[np.ndarray], np.ndarray], images: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy of `classify` (one image → class probabilities) on (images, labels), and its median
    single-image latency in milliseconds."""
    predictions, seconds = [], []
    for image in images:
        started = time.perf_counter()
        predictions.append(int(np.argmax(classify(image))))
        seconds.append(time.perf_counter() - started)
    return {"accuracy": float(np.mean(np.asarray(predictions) == labels)),
            "latency_ms": 1000 * float(np.median(seconds))}


def tensor_types(flatbuffer: bytes) -> set:
    """The dtypes of every tensor in the model (a full-integer model has no float32 between input
    and output)."""
    interpreter = tf.lite.Interpreter(model_content=flatbuffer)
    return {detail["dtype"] for detail in interpreter.get_tensor_details()}
