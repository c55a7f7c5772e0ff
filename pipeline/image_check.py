"""`python -m pipeline.image_check PACKAGE`: imports everything a compiled package names, as its
steps will in the image: each container's and hook's `python -m` module, each executor class,
and each module function a step is given by path (preprocessing_fn, run_fn, ...). The Dockerfile
runs it on a package compiled in the build, so an image that cannot run a step fails to build.
"""
from __future__ import annotations

import importlib
import re
import sys

import components  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def named_code(spec: dict) -> list[str]:
    """The dotted names a spec's steps import: modules (`-m`) and classes or functions."""
    names = set()
    for executor in spec["deploymentSpec"]["executors"].values():
        container = executor.get("container", {})
        for command in (container, container.get("lifecycle", {}).get("preCacheCheck", {})):
            parts = command.get("command", []) + command.get("args", [])
            names |= {parts[i + 1] for i, part in enumerate(parts[:-1]) if part in ("-m", "--executor_class_path")}
    for task in spec["root"]["dag"]["tasks"].values():
        for key, source in task.get("inputs", {}).get("parameters", {}).items():
            value = source.get("runtimeValue", {}).get("constant")
            if key.endswith("_fn") and isinstance(value, str) and _DOTTED.fullmatch(value):
                names.add(value)
    return sorted(names)


def load(name: str) -> object:
    """A module, or an attribute of one, by its dotted name."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        module, _, attribute = name.rpartition(".")
        if error.name not in (name, None) and not name.startswith(error.name + "."):
            raise  # the module exists but one of its own imports is missing
        return getattr(importlib.import_module(module), attribute)


def check(spec: dict) -> dict[str, str]:
    """{dotted name: why it cannot be loaded} over everything the spec names (empty: all load)."""
    failures = {}
    for name in named_code(spec):
        try:
            load(name)
        except Exception as error:  # each reported, the check goes on
            failures[name] = f"{type(error).__name__}: {error}"
    return failures


def main(argv: list[str]) -> int:
    from pipeline.kubeflow import load_package

    spec, _, _ = load_package(argv[0])
    failures = check(spec)
    for name in named_code(spec):
        print(f"FAIL {name}: {failures[name]}" if name in failures else f"ok   {name}")
    print(f"{len(failures)} of {len(named_code(spec))} names the package runs cannot be loaded" if failures
          else f"every name the package runs loads ({argv[0]})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
