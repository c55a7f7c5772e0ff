"""data.synth: the deterministic synthetic flowers set."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from data.flowers import CLASS_NAMES, list_record_files
from data.synth import write_synth
from tests.records import read_records


def _contents(summary: dict) -> dict[str, bytes]:
    return {os.path.basename(f): Path(f).read_bytes() for f in summary["files"]}


def test_same_seed_byte_identical_other_seed_differs(tmp_path):
    a = write_synth(str(tmp_path / "a"), per_class=4, seed=3, size=64, shards=2, workers=2)
    b = write_synth(str(tmp_path / "b"), per_class=4, seed=3, size=64, shards=2, workers=1)
    c = write_synth(str(tmp_path / "c"), per_class=4, seed=4, size=64, shards=2, workers=1)
    assert _contents(a) == _contents(b)  # also: a process pool gives the same bytes as one process
    assert sorted(_contents(c)) == sorted(_contents(a))  # same file names (same counts)...
    assert all(_contents(c)[k] != v for k, v in _contents(a).items())  # ...different images


def test_layout_balance_and_decoding(tmp_path):
    out = tmp_path / "synth"
    summary = write_synth(str(out), per_class=5, seed=0, size=48, shards=3, workers=1)
    assert summary["counts"] == {name: 5 for name in CLASS_NAMES}
    assert summary["total"] == 25
    files = list_record_files(str(out))
    assert files == summary["files"] and len(files) == 3
    assert sum(int(os.path.basename(f).split("-")[1].split(".")[0]) for f in files) == 25
    assert all(os.path.basename(f).startswith("synth") for f in files)
    records = list(read_records(str(out)))
    assert len(records) == 25
    counts = {name: 0 for name in CLASS_NAMES}
    for r in records:
        img = np.asarray(Image.open(io.BytesIO(r["image"])))
        assert img.shape == (48, 48, 3)
        assert r["size"] == (48, 48)
        assert r["label"] == CLASS_NAMES[r["class"]]
        assert r["one_hot_class"][r["class"]] == 1.0 and sum(r["one_hot_class"]) == 1.0
        counts[r["label"]] += 1
    assert counts == summary["counts"]
    # shards mix the classes (shuffled), they are not one class per file
    import tensorflow as tf

    from data.flowers import decode_example

    first = [decode_example(s)["class"] for s in tf.data.TFRecordDataset(files[0]).as_numpy_iterator()]
    assert len(set(first)) > 1


def test_rewrite_replaces_old_shards(tmp_path):
    out = tmp_path / "s"
    write_synth(str(out), per_class=2, seed=0, size=32, shards=4, workers=1)
    summary = write_synth(str(out), per_class=1, seed=0, size=32, shards=2, workers=1)
    assert list_record_files(str(out)) == summary["files"]
    assert len(list(read_records(str(out)))) == 5


def test_images_differ_between_classes_and_items(tmp_path):
    from data.synth import render

    a = np.asarray(render(0, 0, 0, 64), np.float32)
    b = np.asarray(render(0, 0, 1, 64), np.float32)
    c = np.asarray(render(1, 0, 0, 64), np.float32)
    assert np.abs(a - b).mean() > 5 and np.abs(a - c).mean() > 5
    assert np.array_equal(a, np.asarray(render(0, 0, 0, 64), np.float32))
