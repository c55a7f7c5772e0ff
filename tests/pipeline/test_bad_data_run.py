"""Real runs on bad records: each stops before Transform with every fault named, and pushes nothing."""
import pytest
import tensorflow as tf

from data import flowers
from tests.pipeline.runs import flowers_run

pytestmark = pytest.mark.e2e  # runs whole pipelines


def _edited(serialized: bytes, edit) -> bytes:
    example = tf.train.Example.FromString(serialized)
    edit(example.features.feature)
    return example.SerializeToString()


def _run_on(tmp_path, tiny_data, extra_records: list[bytes]):
    """`flowers run` on 20 good records plus `extra_records`; returns (process, stderr's error lines)."""
    data = tmp_path / "data"
    data.mkdir()
    good = list(tf.data.TFRecordDataset(flowers.list_record_files(str(tiny_data))).take(20).as_numpy_iterator())
    with tf.io.TFRecordWriter(str(data / "bad00.tfrec")) as writer:
        for record in good + extra_records:
            writer.write(record)
    proc, _ = flowers_run("--data", str(data), "--output", str(tmp_path / "out"), check=False)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "Transform ..." not in proc.stdout
    assert not (tmp_path / "out" / "serving").exists()
    return proc, proc.stderr[proc.stderr.index("flowers run: error:"):].splitlines()


@pytest.fixture(scope="module")
def good_record(tiny_data) -> bytes:
    return next(tf.data.TFRecordDataset(flowers.list_record_files(str(tiny_data))).as_numpy_iterator())


def test_undecodable_image_and_mislabelled_record_are_named(tmp_path, tiny_data, good_record):
    def relabel(feature):  # class 0 (daisy) kept, label says tulips
        feature["class"].int64_list.value[:] = [0]
        feature["label"].bytes_list.value[:] = [b"tulips"]

    proc, error = _run_on(tmp_path, tiny_data, [flowers.encode_example(b"\xff\xd8\xff truncated jpeg", 2, 64, 64),
                                                _edited(good_record, relabel)])
    assert error[0].startswith("flowers run: error: BadRecordsError: 2 of 22 records are unusable"), error
    named = "\n".join(error[1:])
    assert "(label 'roses'): image does not decode: jpeg::Uncompress failed. Invalid JPEG data" in named, error
    assert "(label 'tulips'): class 0 means 'daisy' but the label says 'tulips'" in named, error
    assert "  RecordCheck ..." in proc.stdout


def test_schema_anomalies_are_named_and_an_extra_feature_only_warns(tmp_path, tiny_data, good_record):
    def out_of_range(feature):
        feature["class"].int64_list.value[:] = [7]
        feature["label"].bytes_list.value[:] = [b"cactus"]

    def without_size(feature):
        del feature["size"]

    def with_extra(feature):
        feature["photographer"].bytes_list.value.append(b"someone")

    records = [_edited(good_record, out_of_range), _edited(good_record, with_extra)]
    records += [_edited(good_record, without_size) for _ in range(3)]
    proc, error = _run_on(tmp_path, tiny_data, records)
    assert error[0].startswith("flowers run: error: DataAnomaliesError: ExampleValidator found"), error
    named = "\n".join(error)
    for feature in ("class", "label", "size"):
        assert f"feature '{feature}'" in named, (feature, error)
    assert "photographer" not in named  # not fatal ...
    assert "Data warning (not fatal)" in proc.stdout and "feature 'photographer'" in proc.stdout  # ... but said
    assert "  AnomaliesGate ..." in proc.stdout
