"""`flowers retrain` on data that arrives in spans, for real: one output root lives through a
sequence of retrains, shared by the tests below (three full TFX runs, one stopped at the gate).

  span-1             → v1 pushed
  span-2 added       → evaluated against v1, v2 pushed (trained on the window of spans 1 and 2)
  span-3, bad labels → not blessed, v2 stays; a second retrain started meanwhile refuses
  nothing new        → no training
  span-4, drifted    → the anomalies gate stops the run before Transform; v2 stays
"""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import tensorflow as tf

from data import flowers
from tests.pipeline.runs import FLOWERS, TINY_FLAGS, flowers_run, user_env
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines

# Enough epochs and records for a model clearly better than chance at 64 px; --spans 2 is the
# window the first two retrains train on.
MAX_REGRESSION = 0.1
FLAGS = [*TINY_FLAGS, "--no-tflite", "--epochs", "12", "--min-accuracy", "0", "--max-regression", str(MAX_REGRESSION)]


def _write_span(root: Path, span: int, relabel=None, size_as_float: bool = False) -> None:
    """span-N/train and span-N/eval of synthetic records; `relabel` maps the train split's classes
    (class, label and one_hot_class move together, so the schema still passes); `size_as_float`
    writes `size` as floats in both splits, a type the schema does not allow."""
    from data.synth import write_synth

    for split, per_class in (("train", 20), ("eval", 12)):
        folder = root / f"span-{span}" / split
        write_synth(str(folder), per_class=per_class, seed=100 * span + len(split), size=64, shards=1)
        relabelled = relabel is not None and split == "train"
        if not (relabelled or size_as_float):
            continue
        (path,) = flowers.list_record_files(str(folder))
        records = list(read_records(path))
        with tf.io.TFRecordWriter(path) as writer:
            for r in records:
                cls = relabel(r["class"]) if relabelled else r["class"]
                example = tf.train.Example.FromString(flowers.encode_example(r["image"], cls, *r["size"]))
                if size_as_float:
                    example.features.feature[flowers.SIZE_KEY].ClearField("int64_list")
                    example.features.feature[flowers.SIZE_KEY].float_list.value[:] = [float(v) for v in r["size"]]
                writer.write(example.SerializeToString())


def _serving_files(serving: Path) -> dict:
    """Every file under the serving root with its size and modification time."""
    return {str(p.relative_to(serving)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in serving.rglob("*") if p.is_file()}


def _retrain(data: Path, output: Path, *flags: str, check: bool = True):
    return flowers_run("--data", str(data), "--output", str(output), *FLAGS, *flags, check=check, command="retrain")


@pytest.fixture(scope="module")
def sequence(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("retrain")
    data, output = root / "data", root / "out"
    serving = output / "serving"
    seen = {"data": data, "output": output}

    _write_span(data, 1)
    seen["v1"] = _retrain(data, output, "--spans", "2")[1]

    _write_span(data, 2)
    seen["v2"] = _retrain(data, output, "--spans", "2")[1]
    seen["serving_after_v2"] = _serving_files(serving)

    # Every train record labelled as the next class: a model that learns it is worse than v2 on
    # the (correctly labelled) eval records.
    _write_span(data, 3, relabel=lambda cls: (cls + 1) % len(flowers.CLASS_NAMES))
    log = root / "span3.out"
    with open(log, "w") as out:
        first = subprocess.Popen([FLOWERS, "retrain", "--data", str(data), "--output", str(output), *FLAGS,
                                  "--spans", "1", "--json"], stdout=out, stderr=subprocess.STDOUT, env=user_env())
        lock = output / ".lock"
        deadline = time.time() + 300
        while not (lock.exists() and lock.read_text().startswith("pid")) and first.poll() is None:
            assert time.time() < deadline, "the first retrain never took the lock"
            time.sleep(1)
        seen["second"] = subprocess.run([FLOWERS, "retrain", "--data", str(data), "--output", str(output), *FLAGS],
                                        capture_output=True, text=True, env=user_env(), timeout=600)
        seen["second_ran_while_first_did"] = first.poll() is None
        seen["first_pid"] = first.pid
        assert first.wait(timeout=1200) == 0, log.read_text()[-5000:]
    seen["bad_labels"] = json.loads(log.read_text().strip().splitlines()[-1])
    seen["serving_after_bad_labels"] = _serving_files(serving)

    started = time.time()
    seen["nothing_new"] = _retrain(data, output, "--spans", "1")
    seen["nothing_new_seconds"] = time.time() - started

    _write_span(data, 4, size_as_float=True)
    seen["drift"] = _retrain(data, output, "--spans", "1", check=False)[0]
    seen["serving_after_drift"] = _serving_files(serving)
    return seen


def test_first_span_is_trained_and_pushed(sequence):
    v1 = sequence["v1"]
    assert v1["retrained"] and v1["blessed"] and v1["pushed"], v1
    assert v1["spans"] == [1] and v1["newest_span"] == 1
    assert v1["baseline_accuracy"] is None and v1["baseline_spans"] is None  # nothing blessed before


def test_new_span_is_evaluated_against_the_blessed_model_and_pushed(sequence):
    v1, v2 = sequence["v1"], sequence["v2"]
    assert v2["retrained"] and v2["spans"] == [1, 2], v2  # the rolling window of --spans 2
    assert v2["baseline_spans"] == [1] and v2["baseline_accuracy"] is not None
    assert v2["blessed"] and v2["pushed"] and v2["decision"].startswith("blessed, pushed")
    assert v2["pushed_model_dir"] != v1["pushed_model_dir"]
    assert os.path.isfile(os.path.join(v1["pushed_model_dir"], "saved_model.pb"))  # v1 kept beside v2


def test_worse_model_is_not_blessed_and_nothing_is_pushed(sequence):
    from pipeline.summary import latest_pushed_model

    bad, v2 = sequence["bad_labels"], sequence["v2"]
    assert bad["retrained"] and bad["spans"] == [3] and bad["baseline_spans"] == [1, 2], bad
    assert bad["accuracy"] < bad["baseline_accuracy"] - MAX_REGRESSION, bad
    assert bad["blessed"] is False and bad["pushed"] is False and bad["pushed_model_dir"] is None
    assert "trails the baseline" in bad["decision"] and "nothing pushed" in bad["decision"]
    assert latest_pushed_model(str(sequence["output"] / "serving")) == v2["pushed_model_dir"]
    assert sequence["serving_after_bad_labels"] == sequence["serving_after_v2"]  # not a byte touched


def test_a_second_retrain_refuses_while_one_runs(sequence):
    second = sequence["second"]
    assert sequence["second_ran_while_first_did"]
    assert second.returncode == 1, second.stdout + second.stderr
    assert (f"flowers retrain: error: RunInProgressError: another flowers run (pid {sequence['first_pid']}) "
            f"is using {sequence['output']}") in second.stderr


def test_nothing_new_means_no_training(sequence):
    proc, summary = sequence["nothing_new"]
    assert summary == {**summary, "retrained": False, "new_data": False, "newest_span": 3, "baseline_spans": [1, 2]}
    assert "flowers retrain: nothing new: span 3 was already evaluated and not blessed" in proc.stdout
    assert "Trainer" not in proc.stdout
    assert sequence["nothing_new_seconds"] < 90  # imports and one MLMD query, no pipeline


def test_schema_drift_in_a_new_span_stops_at_the_gate(sequence):
    from pipeline import retrain
    from pipeline.config import RunConfig

    proc = sequence["drift"]
    assert proc.returncode == 1, proc.stdout[-3000:]
    error = proc.stderr[proc.stderr.index("flowers retrain: error:"):]
    assert error.startswith("flowers retrain: error: DataAnomaliesError: ExampleValidator found"), error
    assert "feature 'size'" in error
    assert "  AnomaliesGate ..." in proc.stdout and "Transform ..." not in proc.stdout
    assert sequence["serving_after_drift"] == sequence["serving_after_v2"]
    # Stopped before evaluation: the next retrain tries span 4 again (and fails until it is fixed).
    config = RunConfig(data=str(sequence["data"]), split_folders=True, span_folders=True)
    check = retrain.check_new_data(config, str(sequence["output"] / "metadata.sqlite"))
    assert check["new_data"] and check["newest_span"] == 4
