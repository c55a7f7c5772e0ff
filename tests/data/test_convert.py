"""data.convert: photo folders → TFRecords in the public layout."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data.convert import convert, load_square
from data.flowers import LABELS_FILE, list_record_files
from tests.records import read_records

SIZE = 48


def _photo(path: Path, w: int, h: int, seed: int, fmt: str = "JPEG", mode: str = "RGB") -> None:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, 3)
    yy, xx = np.mgrid[0:h, 0:w]
    arr = (base + np.stack([xx * 255 // max(w, 1), yy * 255 // max(h, 1), (xx + yy) % 256], -1)) % 256
    img = Image.fromarray(arr.astype(np.uint8), "RGB").convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt)


def _decode(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)))


@pytest.fixture
def flower_folders(tmp_path: Path) -> tuple[Path, dict[str, int], Path]:
    src = tmp_path / "photos"
    shapes = [(80, 60), (60, 80), (200, 50), (48, 48), (30, 90)]  # wide, tall, very wide, exact, smaller than SIZE
    _photo(src / "daisy" / "a.jpg", *shapes[0], seed=1)
    _photo(src / "daisy" / "b.JPG", *shapes[1], seed=2)
    _photo(src / "daisy" / "nested" / "c.jpeg", *shapes[2], seed=3)
    _photo(src / "roses" / "d.png", *shapes[3], seed=4, fmt="PNG", mode="RGBA")
    _photo(src / "roses" / "e.PNG", *shapes[4], seed=5, fmt="PNG", mode="L")
    _photo(src / "tulips" / "f.jpg", *shapes[0], seed=6)
    (src / "tulips" / "notes.txt").write_text("not an image")
    bad = src / "tulips" / "corrupt.jpg"
    bad.write_bytes(np.random.default_rng(7).integers(0, 256, 500, dtype=np.uint8).tobytes())
    expected = {"daisy": 3, "roses": 2, "tulips": 1}
    return src, expected, bad


def test_round_trip_three_flower_folders_make_three_classes(flower_folders, tmp_path, capsys):
    src, expected, bad = flower_folders
    out = tmp_path / "records"
    summary = convert(str(src), str(out), size=SIZE, shards=3, workers=1)

    names = ["daisy", "roses", "tulips"]  # numbered 0..2, not with the five flowers' gaps
    assert summary["class_names"] == names
    assert summary["labels_file"] == str(out / LABELS_FILE)
    assert (out / LABELS_FILE).read_text().splitlines() == names
    assert summary["total"] == 6
    assert summary["counts"] == expected
    assert [p for p, _ in summary["skipped"]] == [str(bad)]
    assert "skipped 1 unreadable images" in capsys.readouterr().err

    files = list_record_files(str(out))
    assert files == summary["files"] and len(files) == 3
    for f in files:
        name = os.path.basename(f)
        assert name.startswith("flowers0") and name.endswith(".tfrec")
    records = list(read_records(str(out)))
    assert sum(int(os.path.basename(f).split("-")[1].split(".")[0]) for f in files) == len(records) == 6
    seen = {}
    for r in records:
        img = _decode(r["image"])
        assert img.shape == (SIZE, SIZE, 3) and img.dtype == np.uint8
        assert r["size"] == (SIZE, SIZE)
        assert r["label"] == names[r["class"]]
        one_hot = np.zeros(len(names), np.float32)
        one_hot[r["class"]] = 1
        assert np.array_equal(np.asarray(r["one_hot_class"]), one_hot)
        seen[r["label"]] = seen.get(r["label"], 0) + 1
    assert seen == expected


def test_parallel_matches_serial(flower_folders, tmp_path):
    src, _, _ = flower_folders
    a = convert(str(src), str(tmp_path / "a"), size=SIZE, shards=3, workers=1, progress=False)
    b = convert(str(src), str(tmp_path / "b"), size=SIZE, shards=3, workers=2, progress=False)
    assert [os.path.basename(f) for f in a["files"]] == [os.path.basename(f) for f in b["files"]]
    for fa, fb in zip(a["files"], b["files"]):
        assert Path(fa).read_bytes() == Path(fb).read_bytes()
    assert a["skipped"] == b["skipped"]


def test_progress_lines(flower_folders, tmp_path, capsys):
    src, _, _ = flower_folders
    convert(str(src), str(tmp_path / "out"), size=SIZE, shards=2, workers=1)
    err = capsys.readouterr().err
    assert "shard 1/2:" in err and "shard 2/2:" in err


def test_other_class_names_sorted_with_labels_file(tmp_path):
    src = tmp_path / "src"
    names = ["zebra", "Apple", "mango"]
    for i, name in enumerate(names):
        for j in range(i + 1):
            _photo(src / name / f"{j}.jpg", 70 + 10 * j, 50, seed=10 * i + j)
    (src / ".hidden").mkdir()
    out = tmp_path / "out"
    summary = convert(str(src), str(out), size=32, shards=4, workers=1, progress=False)

    order = sorted(names)  # ["Apple", "mango", "zebra"]
    assert summary["class_names"] == order
    assert (out / LABELS_FILE).read_text().splitlines() == order
    assert summary["counts"] == {"Apple": 2, "mango": 3, "zebra": 1}
    records = list(read_records(str(out)))
    assert len(records) == 6
    for r in records:
        assert r["label"] == order[r["class"]]
        assert len(r["one_hot_class"]) == 3 and r["one_hot_class"][r["class"]] == 1.0
        assert _decode(r["image"]).shape == (32, 32, 3)


def test_rerun_replaces_old_shards_and_labels(tmp_path):
    src = tmp_path / "src"
    for j in range(4):
        _photo(src / "cats" / f"{j}.jpg", 40, 40, seed=j)
    _photo(src / "dogs" / "0.jpg", 40, 40, seed=9)
    out = tmp_path / "out"
    convert(str(src), str(out), size=16, shards=5, workers=1, progress=False)
    assert (out / LABELS_FILE).exists()
    # same output folder, now with other classes and fewer shards: no stale files may remain
    src2 = tmp_path / "src2"
    _photo(src2 / "roses" / "0.jpg", 40, 40, seed=1)
    _photo(src2 / "daisy" / "0.jpg", 40, 40, seed=2)
    summary = convert(str(src2), str(out), size=16, shards=2, workers=1, progress=False)
    assert list_record_files(str(out)) == summary["files"]
    assert (out / LABELS_FILE).read_text().splitlines() == ["daisy", "roses"]
    assert sorted(r["label"] for r in read_records(str(out))) == ["daisy", "roses"]


def test_empty_class_folders_are_left_out_and_one_class_is_refused(tmp_path, capsys):
    _photo(tmp_path / "src" / "cats" / "0.jpg", 40, 40, seed=1)
    (tmp_path / "src" / "birds").mkdir()
    _photo(tmp_path / "src" / "dogs" / "0.jpg", 40, 40, seed=2)
    summary = convert(str(tmp_path / "src"), str(tmp_path / "out"), size=16, shards=1, workers=1)
    assert summary["class_names"] == ["cats", "dogs"]
    assert "no images in birds; left out" in capsys.readouterr().err
    assert [r["class"] for r in sorted(read_records(str(tmp_path / "out")), key=lambda r: r["label"])] == [0, 1]
    (tmp_path / "src" / "dogs" / "0.jpg").unlink()
    with pytest.raises(ValueError, match="only one class folder with images .*cats.*: a classifier needs at least two"):
        convert(str(tmp_path / "src"), str(tmp_path / "out"), size=16, shards=1, workers=1)


def test_empty_source_raises(tmp_path):
    with pytest.raises(ValueError, match="no class sub-folders"):
        convert(str(tmp_path), str(tmp_path / "out"))
    (tmp_path / "daisy").mkdir()
    (tmp_path / "daisy" / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="no images"):
        convert(str(tmp_path), str(tmp_path / "out"))
    with pytest.raises(ValueError, match="does not exist"):
        convert(str(tmp_path / "missing"), str(tmp_path / "out"))


def test_load_square_crops_center(tmp_path):
    # left third red, middle green, right third blue: the crop of a 3:1 image is the green middle
    arr = np.zeros((40, 120, 3), np.uint8)
    arr[:, :40, 0] = arr[:, 40:80, 1] = arr[:, 80:, 2] = 255
    path = tmp_path / "x.png"
    Image.fromarray(arr).save(path)
    out = np.asarray(load_square(str(path), 20)).astype(int)
    assert out.shape == (20, 20, 3)
    assert out[:, 2:-2, 1].min() > 200 and out[:, 2:-2, 0].max() < 60 and out[:, 2:-2, 2].max() < 60
