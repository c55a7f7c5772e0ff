"""The on-device models of a tiny run on real photos: integer int8, scored against the SavedModel,
pushed beside it only within the accuracy limit, and usable by `flowers predict --tflite`."""
import os
import re
import subprocess

import numpy as np
import pytest

from components import tflite
from tests.pipeline.runs import FLOWERS, flowers_run, user_env, write_real_records
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines

RECORDS = 80
CLASSES = ("daisy", "sunflowers")  # 40 photos of each
RUN_FLAGS = ["--min-accuracy", "0", "--image-size", "64", "--epochs", "3", "--seed", "7"]


@pytest.fixture(scope="module")
def tflite_run(tmp_path_factory, shared_flowers):
    """A run with the default limit (one point), then the same data with a limit no model can meet."""
    data = write_real_records(shared_flowers, tmp_path_factory.mktemp("tflite_data"), RECORDS, CLASSES)
    output = tmp_path_factory.mktemp("tflite_run")
    _, first = flowers_run("--data", str(data), "--output", str(output), *RUN_FLAGS)
    # Everything up to the Trainer is cached: only TFLiteExport, the Baseline, Evaluator and Pusher run.
    proc, strict = flowers_run("--data", str(data), "--output", str(output), *RUN_FLAGS, "--tflite-max-drop", "-1")
    return {"first": first, "strict": strict, "strict_stdout": proc.stdout, "output": output}


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def test_int8_model_is_integer_from_input_to_output(tflite_run):
    folder = tflite_run["first"]["tflite"]["uri"]
    flatbuffer = _read(os.path.join(folder, tflite.FILE_NAMES["int8"]))
    classifier = tflite.Classifier(flatbuffer)
    assert classifier.input["dtype"] == np.uint8 and classifier.output["dtype"] == np.uint8
    assert np.float32 not in tflite.tensor_types(flatbuffer)  # no float tensor between them
    assert classifier.image_size == 64
    assert np.float32 in tflite.tensor_types(_read(os.path.join(folder, tflite.FILE_NAMES["float16"])))


def test_tflite_models_within_the_limit_are_pushed_beside_the_saved_model(tflite_run):
    summary = tflite_run["first"]
    formats = summary["tflite"]["formats"]
    reference = formats["saved_model"]["accuracy"]
    assert summary["pushed"] and summary["tflite"]["eval_images"] > 0
    for fmt in tflite.FORMATS:
        score = formats[fmt]
        assert score["accuracy"] >= reference - 0.01, (fmt, score, reference)
        assert score["accepted"] and score["pushed"], score
        assert 0 < score["bytes"] < formats["saved_model"]["bytes"] and score["latency_ms"] > 0
        assert os.path.isfile(os.path.join(summary["pushed_model_dir"], tflite.FILE_NAMES[fmt]))
    assert formats["int8"]["bytes"] < formats["float16"]["bytes"]
    labels = _read(os.path.join(summary["pushed_model_dir"], "labels.txt")).decode().split()
    assert labels == list(CLASSES)


def test_a_limit_no_model_meets_pushes_the_saved_model_alone_and_says_why(tflite_run):
    summary = tflite_run["strict"]
    assert summary["pushed"] and os.path.isfile(os.path.join(summary["pushed_model_dir"], "saved_model.pb"))
    assert summary["pushed_model_dir"] != tflite_run["first"]["pushed_model_dir"]
    assert not [name for name in os.listdir(summary["pushed_model_dir"]) if name.endswith(".tflite")]
    for fmt in tflite.FORMATS:
        score = summary["tflite"]["formats"][fmt]
        assert not score["accepted"] and not score["pushed"]
        assert re.search(rf"{fmt}: accuracy [\d.]+ is more than -1 below the float model's [\d.]+; not pushed",
                         score["reason"]), score["reason"]
        assert score["reason"] in tflite_run["strict_stdout"]


def test_predict_tflite_prints_class_names_like_the_saved_model(tflite_run, shared_flowers, tmp_path):
    record = next(iter(read_records(str(shared_flowers / "flowers11-237.tfrec"))))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(record["image"])
    version = tflite_run["first"]["pushed_model_dir"]
    lines = {}
    for mode in ([], ["--tflite"], ["--tflite", os.path.join(version, tflite.FILE_NAMES["float16"])]):
        proc = subprocess.run([FLOWERS, "predict", str(photo), "--model", version, "--top-k", "2", *mode],
                              capture_output=True, text=True, env=user_env(), timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines[tuple(mode)] = proc.stdout.strip().splitlines()[-1]
    names = "|".join(CLASSES)
    for line in lines.values():
        assert re.fullmatch(rf"{re.escape(str(photo))}: ({names}) [\d.]+%, ({names}) [\d.]+%", line), line
