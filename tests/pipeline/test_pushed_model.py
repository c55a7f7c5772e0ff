"""The pushed model as its users meet it: TensorFlow alone, and `flowers predict`."""
import json
import os
import subprocess
import sys

import pytest

from data import flowers
from tests.pipeline.runs import FLOWERS
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines

# Loads the model in a fresh interpreter where importing any project package fails.
TF_ONLY = """
import importlib.abc, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"components", "models", "pipeline", "data"}:
            raise ImportError("project code must not be needed: " + name)
sys.meta_path.insert(0, Block())
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
out = model.signatures["serving_default"](image_bytes=tf.constant([open(sys.argv[2], "rb").read()]))
print(out["label"].numpy()[0].decode(), float(out["probabilities"].numpy().sum()))
"""


def _photo(tmp_path, data_dir):
    record = next(read_records(str(data_dir)))
    path = tmp_path / "flower.jpg"
    path.write_bytes(record["image"])
    return path


def test_model_loads_with_tensorflow_alone(tiny_run, tmp_path):
    photo = _photo(tmp_path, tiny_run["data"])
    proc = subprocess.run([sys.executable, "-c", TF_ONLY, tiny_run["summary"]["pushed_model_dir"], str(photo)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    label, total = proc.stdout.split()[-2:]
    assert label in flowers.CLASS_NAMES and abs(float(total) - 1.0) < 1e-4


def test_predict_reports_bad_files_and_still_predicts_the_rest(tiny_run, tmp_path):
    photo = _photo(tmp_path, tiny_run["data"])
    (tmp_path / "notes.txt").write_text("not an image")
    proc = subprocess.run([FLOWERS, "predict", "--output", str(tiny_run["output"]), "--top-k", "2", "--json",
                           str(photo), str(tmp_path / "notes.txt")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["model"] == tiny_run["summary"]["pushed_model_dir"]  # the latest pushed version by default
    good, bad = result["predictions"]
    assert len(good["top"]) == 2 and good["top"][0][0] in flowers.CLASS_NAMES
    assert bad["path"].endswith("notes.txt") and bad["error"] == "not a decodable image"


def test_model_flag_takes_a_version_or_a_serving_folder(tiny_run, tmp_path):
    from pipeline.predict import find_model

    pushed = tiny_run["summary"]["pushed_model_dir"]
    assert find_model(pushed, str(tmp_path)) == pushed
    assert find_model(os.path.dirname(pushed), str(tmp_path)) == pushed  # the newest version in it
    with pytest.raises(FileNotFoundError, match=f"no pushed model in {tmp_path}"):
        find_model(str(tmp_path), "unused")
