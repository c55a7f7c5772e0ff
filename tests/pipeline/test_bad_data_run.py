"""Real runs on bad records: each stops before Transform with every fault named, and pushes nothing;
`flowers report` on such a run says first that it failed, where and why."""
import pytest
import tensorflow as tf

from data import flowers
from pipeline import report
from tests.faults import edited, huge_jpeg
from tests.pipeline.runs import flowers_run

pytestmark = pytest.mark.e2e  # runs whole pipelines


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


def test_undecodable_huge_and_mislabelled_records_are_named_and_the_report_says_so(tmp_path, tiny_data, good_record):
    def relabel(feature):  # class 0 (daisy) kept, label says tulips
        feature["class"].int64_list.value[:] = [0]
        feature["label"].bytes_list.value[:] = [b"tulips"]

    proc, error = _run_on(tmp_path, tiny_data, [flowers.encode_example(b"\xff\xd8\xff truncated jpeg", 2, 64, 64),
                                                edited(good_record, relabel),
                                                flowers.encode_example(huge_jpeg(40000, 40000), 4, 64, 64)])
    assert error[0].startswith("flowers run: error: BadRecordsError: 3 of 23 records are unusable"), error
    named = "\n".join(error[1:])
    assert "(label 'roses'): image does not decode: jpeg::Uncompress failed. Invalid JPEG data" in named, error
    assert "(label 'tulips'): class 0 means 'daisy' but the label says 'tulips'" in named, error
    # Judged from its header: decoding it would have taken 4.8 GB.
    assert "(label 'tulips'): image is 40000×40000 pixels (1600 MP), over the bound of 50 MP" in named, error
    assert "  RecordCheck ..." in proc.stdout

    page = open(report.write_report(str(tmp_path / "out"), str(tmp_path / "report"))).read()
    verdict = page[page.index('<p class="verdict">'):]
    assert verdict.startswith('<p class="verdict"><span class="no">Run failed</span> at <b>RecordCheck</b>: '
                              '<span class="error">BadRecordsError: 3 of 23 records are unusable'), verdict[:500]
    assert "class 0 means &#x27;daisy&#x27; but the label says &#x27;tulips&#x27;" in verdict.split("</p>")[0]


def test_schema_anomalies_are_named_and_an_extra_feature_only_warns(tmp_path, tiny_data, good_record):
    def out_of_range(feature):
        feature["class"].int64_list.value[:] = [7]
        feature["label"].bytes_list.value[:] = [b"cactus"]

    def without_size(feature):
        del feature["size"]

    def with_extra(feature):
        feature["photographer"].bytes_list.value.append(b"someone")

    records = [edited(good_record, out_of_range), edited(good_record, with_extra)]
    records += [edited(good_record, without_size) for _ in range(3)]
    proc, error = _run_on(tmp_path, tiny_data, records)
    assert error[0].startswith("flowers run: error: DataAnomaliesError: ExampleValidator found"), error
    named = "\n".join(error)
    for feature in ("class", "label", "size"):
        assert f"feature '{feature}'" in named, (feature, error)
    assert "photographer" not in named  # not fatal ...
    assert "Data warning (not fatal)" in proc.stdout and "feature 'photographer'" in proc.stdout  # ... but said
    assert "  AnomaliesGate ..." in proc.stdout
