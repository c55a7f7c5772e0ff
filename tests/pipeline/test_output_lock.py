"""Two runs on one output root would interleave MLMD and serving writes: the second must refuse,
and learn it at once: the lock is taken before anything slow (the data checks read every byte)."""
import pytest

from data import flowers
from pipeline import cli
from pipeline.lock import RunInProgressError, output_lock
from tests.faults import truncate, write_records


def test_second_run_on_the_same_output_refuses(tmp_path):
    with output_lock(str(tmp_path)):
        with pytest.raises(RunInProgressError, match=r"another flowers run \(pid \d+\) is using"):
            with output_lock(str(tmp_path)):
                pass
    with output_lock(str(tmp_path)):  # released once the first run ends
        pass


@pytest.mark.parametrize("command", ["run", "retrain"])
def test_the_lock_comes_before_the_data_checks(tmp_path, capsys, command):
    # Data the checks would refuse: were they first, their error would show instead of the lock's.
    shard = write_records(tmp_path / "data" / "a.tfrec", [flowers.encode_example(b"jpeg", 0, 8, 8)] * 3)
    truncate(shard, 30)
    output = tmp_path / "out"
    with output_lock(str(output)):
        assert cli.main([command, "--data", str(tmp_path / "data"), "--output", str(output)]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        f"flowers {command}: error: RunInProgressError: another flowers run (pid ")
    assert sorted(p.name for p in output.iterdir()) == [".lock"]  # nothing else touched
