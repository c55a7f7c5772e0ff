"""The Pusher executor the pipeline uses, run directly on real artifacts in a temp folder."""
import json
import os
import time

import pytest
from tfx.types import standard_artifacts

from components.atomic_pusher import DRIFT_STATISTICS, IDENTICAL_TO, STAGING_PREFIX, Executor, remove_stale_staging
from components.drift import STATISTICS_FILE
from components.drift_gate import DriftStatistics


def _artifacts(tmp_path, blessed=True, with_model=True, weights=b"index", drift_statistics=None):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    if with_model:
        serving = tmp_path / "model" / "Format-Serving"
        (serving / "variables").mkdir(parents=True, exist_ok=True)
        (serving / "saved_model.pb").write_bytes(b"graph")
        (serving / "variables" / "variables.index").write_bytes(weights)
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / "pushed")
    inputs = {"model": [model], "model_blessing": [blessing]}
    if drift_statistics is not None:
        statistics = DriftStatistics()
        statistics.uri = str(tmp_path / "drift_statistics")
        os.makedirs(statistics.uri, exist_ok=True)
        (tmp_path / "drift_statistics" / STATISTICS_FILE).write_bytes(drift_statistics)
        inputs[DRIFT_STATISTICS] = [statistics]
    return inputs, {"pushed_model": [pushed]}


def _push(tmp_path, serving, **kwargs):
    inputs, outputs = _artifacts(tmp_path, **kwargs)
    properties = {"push_destination": json.dumps({"filesystem": {"base_directory": str(serving)}})}
    Executor().Do(inputs, outputs, properties)
    return outputs["pushed_model"][0]


def test_push_lands_complete_and_leaves_no_staging(tmp_path):
    serving = tmp_path / "serving"
    pushed = _push(tmp_path, serving)
    final = pushed.get_string_custom_property("pushed_destination")
    assert os.path.dirname(final) == str(serving) and os.path.basename(final).isdigit()
    assert sorted(os.listdir(final)) == ["saved_model.pb", "variables"]
    assert os.listdir(serving) == [os.path.basename(final)]


def test_an_existing_version_is_never_overwritten(tmp_path):
    serving = tmp_path / "serving"
    now = int(time.time())
    for version in range(now, now + 5):  # this second and the next few are taken
        (serving / str(version)).mkdir(parents=True)
        (serving / str(version) / "saved_model.pb").write_bytes(b"earlier")
    final = _push(tmp_path, serving).get_string_custom_property("pushed_destination")
    assert int(os.path.basename(final)) >= now + 5
    assert all((serving / str(v) / "saved_model.pb").read_bytes() == b"earlier" for v in range(now, now + 5))


def test_not_blessed_pushes_nothing(tmp_path):
    serving = tmp_path / "serving"
    pushed = _push(tmp_path, serving, blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not serving.exists() or not os.listdir(serving)


def test_a_failed_copy_leaves_no_version_and_no_staging(tmp_path):
    serving = tmp_path / "serving"
    serving.mkdir()
    with pytest.raises(RuntimeError, match="no saved_model.pb .* nothing was pushed"):
        _push(tmp_path, serving, with_model=False)
    assert [d for d in os.listdir(serving) if d.isdigit() or d.startswith(STAGING_PREFIX)] == []


def test_a_model_identical_to_the_newest_version_is_not_pushed_again(tmp_path):
    serving = tmp_path / "serving"
    first = _push(tmp_path, serving).get_string_custom_property("pushed_destination")
    again = _push(tmp_path, serving)  # the same model files: a rerun with nothing changed
    assert again.get_int_custom_property("pushed") == 0
    assert again.get_string_custom_property(IDENTICAL_TO) == first
    assert os.listdir(serving) == [os.path.basename(first)]  # no duplicate version, no staging left
    changed = _push(tmp_path, serving, weights=b"retrained")
    assert changed.get_int_custom_property("pushed") == 1 and len(os.listdir(serving)) == 2


def test_the_drift_statistics_of_the_run_land_in_the_version_and_do_not_make_a_model_new(tmp_path):
    serving = tmp_path / "serving"
    first = _push(tmp_path, serving, drift_statistics=b"span 1").get_string_custom_property("pushed_destination")
    assert sorted(os.listdir(first)) == sorted(["saved_model.pb", "variables", STATISTICS_FILE])
    assert open(os.path.join(first, STATISTICS_FILE), "rb").read() == b"span 1"
    # The same model, other statistics: not a new model; the served version keeps its own.
    again = _push(tmp_path, serving, drift_statistics=b"span 2")
    assert again.get_int_custom_property("pushed") == 0 and again.get_string_custom_property(IDENTICAL_TO) == first
    assert open(os.path.join(first, STATISTICS_FILE), "rb").read() == b"span 1"


def test_staging_folders_of_interrupted_pushes_are_removed_and_named(tmp_path):
    serving = tmp_path / "serving"
    stale = serving / f"{STAGING_PREFIX}0a1b" / "1700000000"
    stale.mkdir(parents=True)
    (stale / "saved_model.pb").write_bytes(b"half")
    (serving / "1690000000").mkdir()
    assert remove_stale_staging(str(serving)) == [str(serving / f"{STAGING_PREFIX}0a1b")]
    assert os.listdir(serving) == ["1690000000"]
    assert remove_stale_staging(str(tmp_path / "none yet")) == []
