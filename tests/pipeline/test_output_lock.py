"""Two runs on one output root would interleave MLMD and serving writes: the second must refuse."""
import pytest

from pipeline.lock import RunInProgressError, output_lock


def test_second_run_on_the_same_output_refuses(tmp_path):
    with output_lock(str(tmp_path)):
        with pytest.raises(RunInProgressError, match=r"another flowers run \(pid \d+\) is using"):
            with output_lock(str(tmp_path)):
                pass
    with output_lock(str(tmp_path)):  # released once the first run ends
        pass
