"""A run killed (SIGKILL) during the Trainer, after its first epoch: the next run on the same output
takes every step before the Trainer from the cache and resumes the fit at epoch 2."""
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from pipeline.config import TRAINER_BACKUPS
from tests.pipeline.runs import FLOWERS, TINY_FLAGS, flowers_run, user_env

pytestmark = pytest.mark.e2e  # runs whole pipelines

UPSTREAM = ("ImportExampleGen", "StatisticsGen", "CuratedSchemaGen", "ExampleValidator", "AnomaliesGate",
            "RecordCheck", "Transform")


def test_killed_during_training_then_resumed_from_cache(tmp_path, tiny_data):
    output = tmp_path / "out"
    flags = ["--data", str(tiny_data), "--output", str(output), "--min-accuracy", "0", *TINY_FLAGS, "--epochs", "6", "--no-tflite"]
    # Its own process group, so the kill takes the Beam workers too, as a kill of the user's job would.
    proc = subprocess.Popen([FLOWERS, "run", *flags], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**user_env(), "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if "epoch 1/6" in line:  # the Trainer is in the middle of fitting
                os.killpg(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.stdout.close()
        returncode = proc.wait(timeout=120)
    assert returncode == -signal.SIGKILL, "".join(seen[-30:])
    assert not (output / "serving").exists() or not os.listdir(output / "serving")

    backups = output / "pipeline" / TRAINER_BACKUPS
    assert len(os.listdir(backups)) == 1, "no backup of the first epoch"

    proc, summary = flowers_run(*flags)
    states = {c["name"]: c["state"] for c in summary["components"]}
    assert all(states[name] == "cached" for name in UPSTREAM), states
    assert states["Trainer"] == "complete" and states["Pusher"] == "complete", states
    assert summary["pushed"] and os.path.isfile(os.path.join(summary["pushed_model_dir"], "saved_model.pb"))
    assert "Resuming training at epoch 2/6 from its backup after epoch 1" in proc.stdout, proc.stdout[-3000:]
    epochs = [line.split()[1] for line in map(str.strip, proc.stdout.splitlines()) if line.startswith("epoch ")]
    assert epochs[0] == "2/6", epochs
    history = json.loads((Path(summary["tensorboard_dir"]) / "history.json").read_text())
    assert len(history["loss"]) >= 2  # epoch 1 from before the kill, then at least epoch 2
    assert os.listdir(backups) == []  # removed once the model was exported
