"""The Baseline step (the newest served version as the Evaluator's baseline), run directly on real
artifacts in a temp folder: its executor, its local driver, and what the Evaluator keeps of it."""
from types import SimpleNamespace

from tfx.types import standard_artifacts

from components.atomic_pusher import STAGING_PREFIX
from components.baseline import MODEL, SERVING_ROOT, VERSION_DIR, Driver, Executor, has_model, newest_version


def _version(serving, name: str, complete: bool = True):
    folder = serving / name
    (folder / "variables").mkdir(parents=True)
    if complete:
        (folder / "saved_model.pb").write_bytes(b"graph " + name.encode())
    return folder


def _baseline(tmp_path, serving, **exec_properties) -> standard_artifacts.Model:
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "baseline" / "model")
    Executor().Do({}, {MODEL: [model]}, {SERVING_ROOT: str(serving), **exec_properties})
    return model


def test_newest_complete_version_by_number(tmp_path):
    serving = tmp_path / "serving"
    assert newest_version(str(serving)) is None  # no serving root yet
    for name in ("9", "10"):
        _version(serving, name)
    _version(serving, "11", complete=False)  # written by another tool, half done
    _version(serving, f"{STAGING_PREFIX}abc")  # a push in progress
    assert newest_version(str(serving)) == str(serving / "10")  # 10 > 9 as numbers, not as text


def test_the_newest_version_is_copied_as_a_trainer_lays_out_a_model(tmp_path):
    serving = tmp_path / "serving"
    _version(serving, "7")
    _version(serving, "8")
    model = _baseline(tmp_path, serving)
    assert (tmp_path / "baseline" / "model" / "Format-Serving" / "saved_model.pb").read_bytes() == b"graph 8"
    assert model.get_string_custom_property("copied_from") == str(serving / "8")
    assert has_model(model)


def test_no_version_gives_a_model_the_evaluator_drops(tmp_path):
    model = _baseline(tmp_path, tmp_path / "serving")
    assert "No model under" in (tmp_path / "baseline" / "model" / "NO_BASELINE").read_text()
    assert model.get_string_custom_property("copied_from") == ""
    assert not has_model(model)


def test_the_local_driver_puts_the_version_found_into_the_cache_key(tmp_path):
    """`flowers run` caches steps by their exec properties: the served version must be one of them,
    or a run after a new push would reuse the earlier run's baseline."""
    serving = tmp_path / "serving"
    info = SimpleNamespace(exec_properties={SERVING_ROOT: str(serving)})
    found = lambda: Driver(None).run(info).exec_properties[VERSION_DIR].string_value  # noqa: E731
    assert found() == ""
    _version(serving, "5")
    assert found() == str(serving / "5")
    # The executor copies what the driver found, even if a newer version appeared meanwhile.
    _version(serving, "6")
    model = _baseline(tmp_path, serving, **{VERSION_DIR: str(serving / "5")})
    assert model.get_string_custom_property("copied_from") == str(serving / "5")
