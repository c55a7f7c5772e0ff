"""Drift between spans on real photos: the image statistics Beam job, TFDV's comparators with the
curated thresholds, and the gate's verdict against a served version's stored statistics.

Reference: 80 photos of one file of ../shared/flowers; new spans: 80 others (same distribution),
the same 80 darkened, and 80 that are 90% one class."""
import io
import os
from collections import Counter

import apache_beam as beam
import pytest
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from components import drift
from components.drift_gate import DataDriftError, compare, judge
from data import flowers
from tests.records import read_records

N = 80
IN_PROCESS = ["--direct_running_mode=in_memory"]


def _statistics(sets: dict, root) -> dict:
    """{name: (file, statistics)}: ImageStatistics over each set of serialized examples, in one Beam
    job, written as a DriftStatistics artifact keeps them."""
    import tensorflow_data_validation as tfdv

    files = {name: str(root / name / drift.STATISTICS_FILE) for name in sets}
    with beam.Pipeline(argv=IN_PROCESS) as pipeline:
        for name, examples in sets.items():
            os.makedirs(os.path.dirname(files[name]))
            _ = (pipeline | f"Create{name}" >> beam.Create(examples) | f"Statistics{name}" >> drift.ImageStatistics()
                 | f"Write{name}" >> tfdv.WriteStatisticsToBinaryFile(files[name]))
    return {name: (path, drift.read_statistics(path)) for name, path in files.items()}


def _examples(records: list[dict], darken: float = 1.0) -> list[bytes]:
    from PIL import Image

    out = []
    for r in records:
        image = r["image"]
        if darken != 1.0:
            buffer = io.BytesIO()
            Image.open(io.BytesIO(image)).convert("RGB").point(lambda v: int(v * darken)).save(buffer, "JPEG", quality=90)
            image = buffer.getvalue()
        out.append(flowers.encode_example(image, flowers.CLASS_NAMES.index(r["label"]), 192, 192))
    return out


def _read(shared_flowers, names: list[str]) -> list[dict]:
    return [r for name in names for r in read_records(str(shared_flowers / name))]


@pytest.fixture(scope="module")
def spans(shared_flowers, tmp_path_factory) -> dict:
    """{name: (statistics file, statistics)} of the reference and three new spans."""
    root = tmp_path_factory.mktemp("drift")
    reference = _read(shared_flowers, ["flowers00-245.tfrec"])[:N]
    others = _read(shared_flowers, ["flowers01-245.tfrec", "flowers02-245.tfrec", "flowers03-245.tfrec"])
    common = Counter(r["label"] for r in others).most_common(1)[0][0]
    one_class = [r for r in others if r["label"] == common][:N * 9 // 10]
    one_class += [r for r in others if r["label"] != common][:N - len(one_class)]
    sets = {"reference": _examples(reference), "same": _examples(others[:N]),
            "dark": _examples(others[:N], darken=0.3), "one_class": _examples(one_class)}
    return _statistics(sets, root)


def test_image_properties_of_a_real_photo(shared_flowers):
    record = next(read_records(str(shared_flowers / "flowers00-245.tfrec")))
    properties = drift.image_properties(record["image"])
    assert properties["width"] == properties["height"] == 192 and properties["jpeg_bytes"] == len(record["image"])
    assert 0.05 < properties["brightness"] < 0.95 and 0.0 < properties["saturation"] < 1.0
    assert drift.image_properties(b"not a photo") == {"jpeg_bytes": 11}  # RecordCheck names such records


def test_a_span_of_the_same_distribution_passes(spans):
    lines, distances = drift.find_drift(spans["same"][1], spans["reference"][1])
    assert lines == []
    assert set(distances) == {"label", *drift.PROPERTIES}
    thresholds = drift.thresholds(drift.load_drift_schema())
    assert all(distances[name] < thresholds[name][1] for name in distances), distances


def test_dark_photos_stop_naming_brightness(spans):
    lines, distances = drift.find_drift(spans["dark"][1], spans["reference"][1])
    assert any(line.startswith("brightness: Jensen-Shannon divergence ") and line.endswith(" > 0.3") for line in lines), lines
    assert distances["brightness"] > 0.5 and distances["label"] < 0.2  # the photos changed, not the class mix


def test_a_class_mix_of_90_percent_one_class_stops_naming_label(spans):
    lines, distances = drift.find_drift(spans["one_class"][1], spans["reference"][1])
    assert [line for line in lines if line.startswith("label: ")] == [f"label: L-infinity distance {distances['label']:.3f} > 0.2"]
    assert distances["label"] > 0.5


def _served(tmp_path, statistics_file: str | None, version: str = "/serving/17") -> standard_artifacts.Model:
    """A Baseline output: a copy of the served version (with its stored statistics), or none."""
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "baseline")
    serving = path_utils.serving_model_dir(model.uri)
    os.makedirs(serving)
    if version:
        open(os.path.join(serving, "saved_model.pb"), "wb").close()
        if statistics_file:
            with open(statistics_file, "rb") as f, open(os.path.join(serving, drift.STATISTICS_FILE), "wb") as out:
                out.write(f.read())
    model.set_string_custom_property("copied_from", version)
    return model


def test_the_gate_stops_a_drifted_span_unless_accepted(spans, tmp_path):
    schema = open(flowers.drift_schema_file()).read()
    dark_uri = os.path.dirname(spans["dark"][0])
    result = compare(dark_uri, _served(tmp_path, spans["reference"][0]), schema)
    assert result["reference"] == "/serving/17" and result["note"] is None
    with pytest.raises(DataDriftError, match=r"drift against the data the served model \(/serving/17\) was trained on; "
                                             r"stopping before Transform \(run with --accept-drift to accept it once\):"
                                             r"\n  .*brightness: Jensen-Shannon divergence 0\.\d+ > 0\.3"):
        judge(result, accept_drift=False)
    judge(result, accept_drift=True)


def test_the_gate_passes_with_a_note_when_there_is_nothing_to_compare_with(spans, tmp_path):
    schema = open(flowers.drift_schema_file()).read()
    dark_uri = os.path.dirname(spans["dark"][0])
    first = compare(dark_uri, _served(tmp_path / "a", None, version=""), schema)
    assert first["note"] == "no reference: no model served yet (the first model)" and first["reference"] is None
    older = compare(dark_uri, _served(tmp_path / "b", None), schema)
    assert older["note"] == f"no reference: /serving/17 holds no {drift.STATISTICS_FILE}"
    for result in (first, older):
        assert result["drifted"] == [] and result["distances"] == {}
        judge(result, accept_drift=False)
