"""Bad --data fails with one line naming the cause, before any pipeline step runs, and leaves
nothing behind: the folder, the flag or the damaged file (with its byte offset) is named."""
import pytest
import tensorflow as tf

from data import flowers
from data.flowers import DataLocationError, check_location
from pipeline import cli
from tests.faults import record_offsets, truncate, write_records


def _records(count=4):
    return [flowers.encode_example(b"jpeg", k % 5, 8, 8) for k in range(count)]


def _fails_before_any_step(argv, capsys, output) -> str:
    """Runs `flowers ARGV`; asserts exit 1 and that no step ran (no MLMD, no artifacts, no model);
    returns the one-line error."""
    assert cli.main([*argv, "--output", str(output)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert not any(p.exists() for p in (output / "metadata.sqlite", output / "pipeline", output / "serving"))
    return "\n".join(err[err.index(next(line for line in err if line.startswith(f"flowers {argv[0]}: error:"))):])


def test_empty_folder(tmp_path):
    with pytest.raises(DataLocationError, match="no TFRecord files in"):
        check_location(str(tmp_path))


def test_glob_matching_nothing(tmp_path):
    with pytest.raises(DataLocationError, match=r"no TFRecord files in .*nothing-\*\.tfrec"):
        check_location(str(tmp_path / "nothing-*.tfrec"))


def test_good_records_pass(tmp_path):
    write_records(tmp_path / "a.tfrec", _records(1))
    assert check_location(str(tmp_path)) == [str(tmp_path / "a.tfrec")]


def test_cli_reports_the_cause_in_one_line_and_creates_nothing(tmp_path, capsys):
    error = _fails_before_any_step(["run", "--data", str(tmp_path / "empty")], capsys, tmp_path / "out")
    assert error.startswith("flowers run: error: DataLocationError: no TFRecord files in")


def test_a_truncated_shard_that_is_not_the_first_stops_the_run_by_name(tmp_path, capsys):
    data = tmp_path / "data"
    shards = [write_records(data / f"part-{i}.tfrec", _records()) for i in range(3)]
    second = record_offsets(shards[1])[1]
    truncate(shards[1], second + 10)
    error = _fails_before_any_step(["run", "--data", str(data)], capsys, tmp_path / "out")
    assert error.startswith("flowers run: error: RecordFileError: 1 of 3 record files are damaged"), error
    assert f"{shards[1]}: truncated at byte {second} (record 1): the file ends 10 bytes into a record" in error, error


def test_a_folder_whose_name_looks_like_a_glob_is_taken_literally(tmp_path):
    folder = tmp_path / "flowers [v2]"
    write_records(folder / "a.tfrec", _records(1))
    write_records(tmp_path / "flowers v" / "decoy.tfrec", _records(1))  # what [v2] as a pattern would miss or match
    assert check_location(str(folder)) == [str(folder / "a.tfrec")]
    assert flowers.list_record_files(str(folder) + "/") == [str(folder / "a.tfrec")]
    base, pattern = flowers.split_location(str(folder))
    # What ImportExampleGen is given: a base that, as the glob TFX and Beam make of it, matches only itself.
    assert tf.io.gfile.glob(f"{base}/{pattern}") == [str(folder / "a.tfrec")]


def test_a_real_glob_still_globs(tmp_path):
    write_records(tmp_path / "a-1.tfrec", _records(1))
    write_records(tmp_path / "b-1.tfrec", _records(1))
    assert check_location(str(tmp_path / "[a]-*.tfrec")) == [str(tmp_path / "a-1.tfrec")]


def test_an_empty_data_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--data", ""])
    assert exit_info.value.code == 2
    assert "argument --data: is empty" in capsys.readouterr().err


def test_unreachable_or_missing_bucket():
    # Offline: the host does not resolve; online: the bucket does not exist. Either way one line.
    with pytest.raises(DataLocationError, match="gs://flowers-tfx-no-such-bucket-7f3a"):
        check_location("gs://flowers-tfx-no-such-bucket-7f3a/records/")
