"""One real pipeline run on a tiny synthetic set, shared by every test that inspects it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOWERS = str(Path(sys.executable).with_name("flowers"))
# Small and quick: the fixed TFX overhead dominates; the model still has to learn something.
TINY_FLAGS = ["--image-size", "64", "--epochs", "4", "--seed", "7"]


def flowers_run(*flags: str, check: bool = True) -> tuple[subprocess.CompletedProcess, dict]:
    """`flowers run ... --json` in a fresh process, as a user runs it; returns (process, summary)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}  # the CLI must set it itself
    proc = subprocess.run([FLOWERS, "run", *flags, "--json"], capture_output=True, text=True, env=env,
                          timeout=1200)
    if check:
        assert proc.returncode == 0, f"flowers run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {}
    return proc, summary


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    from data.synth import write_synth

    out = tmp_path_factory.mktemp("tiny_data")
    write_synth(str(out), per_class=16, seed=3, size=64)
    return out


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_data) -> dict:
    """A full run: every component, a blessed model pushed."""
    output = tmp_path_factory.mktemp("tiny_run")
    proc, summary = flowers_run("--data", str(tiny_data), "--output", str(output), "--min-accuracy", "0",
                                *TINY_FLAGS)
    return {"output": output, "summary": summary, "stdout": proc.stdout, "data": tiny_data}
