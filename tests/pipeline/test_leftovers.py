"""What runs leave behind: a push killed midway leaves a staging folder that the next run (holding
the output lock) removes and names; a rerun with nothing changed does not push a duplicate.

Both on a copy of the shared tiny run's output root (its MLMD, artifacts and serving folder), so
the reruns are mostly cached and the tiny run itself stays as other tests expect it.
"""
import os
import shutil

import pytest

from components.atomic_pusher import STAGING_PREFIX
from tests.faults import run_killed_at
from tests.pipeline.runs import TINY_FLAGS, flowers_run

pytestmark = pytest.mark.e2e  # runs whole pipelines


def test_a_killed_push_is_cleaned_up_and_an_identical_model_is_not_pushed_twice(tiny_run, tmp_path):
    output = tmp_path / "out"
    shutil.copytree(tiny_run["output"], output)
    serving = output / "serving"
    versions = sorted(os.listdir(serving))
    flags = ["--data", str(tiny_run["data"]), "--output", str(output), "--min-accuracy", "0", *TINY_FLAGS]

    # SIGKILL inside the Pusher, after the model was copied to staging and before it is published.
    # (The copy's pipeline root is new, so its Trainer trains again: where a fit's backups live is
    # part of the Trainer's config.)
    run_killed_at("components.atomic_pusher.newest_version", "run", *flags)
    (staging,) = [d for d in os.listdir(serving) if d.startswith(STAGING_PREFIX)]
    (staged,) = os.listdir(serving / staging)
    assert (serving / staging / staged / "saved_model.pb").is_file()
    assert sorted(d for d in os.listdir(serving) if d != staging) == versions  # nothing published

    proc, summary = flowers_run(*flags)
    assert f"removed {serving / staging}, left by a push that was interrupted" in proc.stdout
    states = {c["name"]: c["state"] for c in summary["components"]}
    assert states["Trainer"] == "cached" and states["Pusher"] == "complete", states
    assert summary["pushed"]
    (new,) = sorted(set(os.listdir(serving)) - set(versions))  # pushed once, no staging left
    assert summary["pushed_model_dir"] == str(serving / new)

    # Another gate setting: the Evaluator and Pusher run again on the same model, which is the
    # newest pushed version byte for byte: not pushed again, and said so.
    proc, summary = flowers_run(*flags, "--max-regression", "0.5")
    states = {c["name"]: c["state"] for c in summary["components"]}
    assert states["Trainer"] == "cached" and states["Pusher"] == "complete", states
    assert summary["blessed"] and not summary["pushed"]
    assert summary["identical_to"] == str(serving / new)
    assert f"Pushed: nothing new (the model is identical to the newest pushed version, {serving / new})" \
        in proc.stdout
    assert sorted(os.listdir(serving)) == sorted([*versions, new])  # no duplicate, no staging left
