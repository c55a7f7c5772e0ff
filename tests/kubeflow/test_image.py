"""The step image: a lint of the Dockerfile (no Docker engine here) and the Python 3.10 it runs."""
import ast
import re
from pathlib import Path

import pytest

from pipeline import kubeflow

REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", ".git", "build", "dist", "outputs", "node_modules", "__pycache__"}
# Standard-library names Python 3.11+ added: they parse on 3.10 but fail there at import time.
NEWER_THAN_3_10 = {"tomllib": None, "typing": {"Self", "LiteralString", "Never", "assert_never", "assert_type",
                                               "reveal_type", "Required", "NotRequired", "TypeVarTuple",
                                               "Unpack", "dataclass_transform", "override", "TypeIs"},
                   "datetime": {"UTC"}, "enum": {"StrEnum", "ReprEnum", "verify", "EnumCheck"},
                   "asyncio": {"TaskGroup", "timeout", "Runner"}, "hashlib": {"file_digest"},
                   "contextlib": {"chdir"}}


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_starts_from_tfx_1_16_and_sets_legacy_keras():
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "gcr.io/tfx-oss-public/tfx:1.16.0")
    assert [i for i, _ in instructions].count("FROM") == 1
    env = " ".join(args for op, args in instructions if op == "ENV")
    assert re.search(r"(^|\s)TF_USE_LEGACY_KERAS=1(\s|$)", env)


def test_dockerfile_copies_and_installs_the_project_where_the_spec_expects_it():
    instructions = dockerfile()
    assert ("WORKDIR", kubeflow.IMAGE_PROJECT_DIR) in instructions
    copied = {src.rstrip("/") for op, args in instructions if op == "COPY" for src in args.split()[:-1]}
    pyproject = (REPO / "pyproject.toml").read_text()
    packages = re.search(r'packages = \[([^\]]*)\]', pyproject).group(1)
    assert copied >= {name.strip(' "') for name in packages.split(",")} | {"pyproject.toml", "requirements.lock"}
    assert set(kubeflow.IMAGE_DATA_DIRS) <= copied  # what cluster_config maps into the image
    for source in copied:
        assert (REPO / source).exists(), source
    runs = [args for op, args in instructions if op == "RUN"]
    assert any("pip install --no-deps -e ." in run for run in runs)
    # The lock's pins of the project's direct requirements, each present in the lock.
    [lock_run] = [run for run in runs if "requirements.lock" in run]
    names = re.search(r"\^\(([^)]*)\)==", lock_run).group(1).split("|")
    lock = (REPO / "requirements.lock").read_text().lower()
    for name in names:  # each a grep pattern
        assert len(re.findall(rf"^{name}==", lock, re.M)) == 1, name


def project_sources() -> list[Path]:
    return sorted(p for p in REPO.rglob("*.py") if not SKIP_DIRS & set(p.relative_to(REPO).parts))


def py310_problems(source: str, name: str = "<snippet>") -> list[str]:
    """What keeps `source` from running on Python 3.10: a SyntaxError of its grammar (raised), or
    standard-library names added later (returned)."""
    tree = ast.parse(source, filename=name, feature_version=(3, 10))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [f"import {a.name}" for a in node.names if NEWER_THAN_3_10.get(a.name, ()) is None]
        elif isinstance(node, ast.ImportFrom) and node.module in NEWER_THAN_3_10:
            newer = NEWER_THAN_3_10[node.module]
            if newer is None or newer & {alias.name for alias in node.names}:
                problems.append(f"from {node.module} import")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.attr in (NEWER_THAN_3_10.get(node.value.id) or ()):
                problems.append(f"{node.value.id}.{node.attr}")
    return problems


@pytest.mark.parametrize("path", project_sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_project_code_is_python_3_10(path):
    """The image runs Python 3.10: its grammar, and no standard-library name added later."""
    assert py310_problems(path.read_text(), str(path)) == []


@pytest.mark.parametrize("snippet, problem", [
    ("import tomllib", "import tomllib"),
    ("from typing import Optional, Self", "from typing import"),
    ("import datetime\nnow = datetime.datetime.now(datetime.UTC)", "datetime.UTC"),
    ("import hashlib\nhashlib.file_digest", "hashlib.file_digest"),
])
def test_the_3_10_check_names_newer_library_use(snippet, problem):
    assert py310_problems(snippet) == [problem]


def test_the_3_10_check_refuses_newer_grammar_and_passes_older_code():
    with pytest.raises(SyntaxError):  # 3.11 grammar, which this interpreter itself accepts
        py310_problems("try:\n    pass\nexcept* ValueError:\n    pass\n")
    assert py310_problems("import typing, datetime\nfrom typing import Optional\nx: int | None = None\n"
                          "match x:\n    case None:\n        pass\nd = datetime.timezone.utc\n") == []
