"""The step image: a lint of the Dockerfile (no Docker engine here) and the Python 3.10 it runs."""
import ast
import re
from pathlib import Path

import pytest
import yaml

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


@pytest.mark.parametrize("path", project_sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_project_code_is_python_3_10(path):
    """The image runs Python 3.10: its grammar, and no standard-library name added later."""
    tree = ast.parse(path.read_text(), filename=str(path), feature_version=(3, 10))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert NEWER_THAN_3_10.get(alias.name, ()) is not None, f"{path}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module in NEWER_THAN_3_10:
            newer = NEWER_THAN_3_10[node.module]
            assert newer is not None, f"{path}: from {node.module} import"
            assert not newer & {alias.name for alias in node.names}, f"{path}: from {node.module} import"
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert node.attr not in (NEWER_THAN_3_10.get(node.value.id) or ()), f"{path}: {node.value.id}.{node.attr}"


def test_the_3_10_check_catches_newer_code():
    with pytest.raises(SyntaxError):
        ast.parse("try:\n    pass\nexcept* ValueError:\n    pass\n", feature_version=(3, 10))
    assert NEWER_THAN_3_10["tomllib"] is None and "Self" in NEWER_THAN_3_10["typing"]


def test_the_image_carries_no_credentials():
    """Credentials reach a step from the cluster (workload identity, mounted secrets), never the image."""
    secretish = re.compile(r"CREDENTIAL|TOKEN|SECRET|PASSWORD|API_KEY|\.json\b|\.pem\b|\.p12\b|\.key\b", re.I)
    for op, args in dockerfile():
        if op in ("ENV", "ARG", "COPY", "ADD"):
            assert not secretish.search(args), (op, args)
    copied = " ".join(args for op, args in dockerfile() if op in ("COPY", "ADD"))
    assert " . " not in f" {copied} ", "copying the whole checkout could take a local key file along"


def test_the_build_checks_its_packages_and_imports_what_a_compiled_package_runs():
    [install] = [args for op, args in dockerfile() if op == "RUN" and "pip install --no-deps -e ." in args]
    steps = [step.strip() for step in install.split("&&")]
    assert "python -m pip check" in steps
    compile_step = next(step for step in steps if step.startswith("flowers compile"))
    package = compile_step.split("--output ")[1].split()[0]
    assert f"python -m pipeline.image_check {package}" in steps


def test_the_image_check_loads_every_name_the_package_runs(compiled):
    from pipeline import image_check

    spec = yaml.safe_load(compiled["text"])
    names = image_check.named_code(spec)
    assert {"components.entrypoint", "tfx.orchestration.kubeflow.v2.file_based_example_gen.driver",
            "components.baseline.Executor", "components.evaluation.Executor", "components.example_gen.Executor",
            "components.transform.preprocessing_fn", "components.trainer.run_fn"} <= set(names)
    assert image_check.check(spec) == {}


def test_the_image_check_names_what_does_not_load(compiled, tmp_path, capsys):
    from pipeline import image_check

    spec = yaml.safe_load(compiled["text"])
    args = spec["deploymentSpec"]["executors"]["Pusher_executor"]["container"]["args"]
    args[args.index("--executor_class_path") + 1] = "components.atomic_pusher.Exekutor"
    spec["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]["run_fn"]["runtimeValue"]["constant"] = \
        "components.no_such_module.run_fn"
    package = tmp_path / "broken.yaml"
    package.write_text(yaml.safe_dump(spec))
    assert image_check.main([str(package)]) == 1
    printed = capsys.readouterr().out
    assert "FAIL components.atomic_pusher.Exekutor: AttributeError" in printed
    assert "FAIL components.no_such_module.run_fn: ModuleNotFoundError" in printed
    assert "2 of " in printed
