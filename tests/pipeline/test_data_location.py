"""Bad --data fails with one line naming the cause, before any pipeline step runs."""
import pytest
import tensorflow as tf

from data import flowers
from data.flowers import DataLocationError, check_location
from pipeline import cli


def test_empty_folder(tmp_path):
    with pytest.raises(DataLocationError, match="no TFRecord files in"):
        check_location(str(tmp_path))


def test_glob_matching_nothing(tmp_path):
    with pytest.raises(DataLocationError, match=r"no TFRecord files in .*nothing-\*\.tfrec"):
        check_location(str(tmp_path / "nothing-*.tfrec"))


def test_files_that_are_not_tfrecords(tmp_path):
    (tmp_path / "photos.tfrec").write_bytes(b"\xff\xd8 this is a JPEG, not a TFRecord" * 10)
    with pytest.raises(DataLocationError, match="photos.tfrec is not a TFRecord file"):
        check_location(str(tmp_path))


def test_good_records_pass(tmp_path):
    with tf.io.TFRecordWriter(str(tmp_path / "a.tfrec")) as writer:
        writer.write(flowers.encode_example(b"jpeg", 1, 8, 8))
    assert check_location(str(tmp_path)) == [str(tmp_path / "a.tfrec")]


def test_cli_reports_the_cause_in_one_line_and_creates_nothing(tmp_path, capsys):
    output = tmp_path / "out"
    assert cli.main(["run", "--data", str(tmp_path), "--output", str(output)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("flowers run: error: DataLocationError: no TFRecord files in")
    assert not output.exists()  # failed before any component (or the output root) was touched


def test_unreachable_or_missing_bucket():
    # Offline: the host does not resolve; online: the bucket does not exist. Either way one line.
    with pytest.raises(DataLocationError, match="gs://flowers-tfx-no-such-bucket-7f3a"):
        check_location("gs://flowers-tfx-no-such-bucket-7f3a/records/")
