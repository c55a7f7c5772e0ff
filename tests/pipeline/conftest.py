"""One real pipeline run on a tiny synthetic set, shared by every test that inspects it."""
from pathlib import Path

import pytest

from tests.pipeline.runs import TINY_FLAGS, flowers_run


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
