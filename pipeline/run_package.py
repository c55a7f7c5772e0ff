"""`flowers run-package`: a compiled package (pipeline/kubeflow.py) run on this machine, step by
step, the way an open-source Kubeflow Pipelines 2.x backend runs it, or Vertex AI Pipelines with
`vertex`, to try a package before deploying it (kfp.local does this for KFP's own components; it
cannot run TFX's).

Each task runs once its upstream tasks are done (up to `parallel` at a time, as the backend starts
every task it can) as its container's command and arguments, in a subprocess, with the executor
input KFP's driver builds for it (backend/src/v2/driver and
component/launcher_v2.go):
- parameters: the task's constants, and the pipeline's inputs (their compiled defaults, a
  PipelineJob's parameterValues, then `--param NAME=VALUE`);
- input artifacts: the upstream steps' outputs as the driver reads them back from ML Metadata:
  named by their metadata id, typed with an empty instance schema (the driver keeps no schema
  with an artifact), metadata gone through MLMD (numbers as doubles, booleans as numbers, lists
  and structs wrapped, `display_name` added);
- outputs under {root}/{pipeline}/{run}/{task}/{uuid}/, typed as declared, the executor output
  file beside them; whatever the step writes there is merged into its output artifacts;
- caching as compiled, with KFP's cache key (input artifact names, parameter values, output
  specs, image and command), kept in WORK/cache;
- each step's output in WORK/logs/RUN/STEP.log, every output artifact in WORK/logs/RUN/run.json;
- lifecycle hooks skipped, and a package refused if an executor is not a container (or
  importer), as KFP's backend compiler refuses it.
With `vertex`: input artifacts typed as the step declares them and named as Vertex ML Metadata
resources, metadata as the producer wrote it, the preCacheCheck hook run first (its output
applied), outputs under {root}/{run}/{task}_{uuid}/.

The image's /flowers is this checkout, and the compiled pipeline root is WORK/root (pushes under
it land in WORK/root/serving): both are replaced wherever the package names them. Any other
location (gs://...) is used as it is. Beam steps keep the compiled multi-processing mode, with at
most as many workers as this machine has cores (or run in-process with `beam_in_process`).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, Callable, Optional

from pipeline.kubeflow import IMAGE_PROJECT_DIR, REPO_ROOT, RUNNABLE_EXECUTORS, check_runnable, load_package

DEFAULT_WORK = "outputs-package"
DEFAULT_PARALLEL = os.cpu_count() or 1  # steps at a time: each is mostly one busy core while it starts
EXECUTOR_INPUT = "{{$}}"
VERTEX_ARTIFACT = "projects/local/locations/local/metadataStores/default/artifacts/{}"
_IMAGE_PATH = re.compile(rf"(?<![\w.\-/]){re.escape(IMAGE_PROJECT_DIR)}(?=/|\"|$)")
_ERROR_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): ")


class StepFailedError(RuntimeError):
    """A step's command exited with an error; the message carries its last error and its log."""


# ------------------------------------------------------------------------------------- package


def _typed(name: str, text: str, declared: dict) -> Any:
    """A `--param` value as the parameter's declared type."""
    kind = declared.get("parameterType", "STRING")
    try:
        if kind == "STRING":
            # A file or folder of this machine: steps run in the checkout, so made absolute.
            return os.path.abspath(text) if "://" not in text and os.path.exists(text) else text
        if kind == "NUMBER_INTEGER":
            return int(text)
        if kind == "NUMBER_DOUBLE":
            return float(text)
        if kind == "BOOLEAN":
            return {"true": True, "false": False}[text.lower()]
        return json.loads(text)
    except (ValueError, KeyError):
        raise ValueError(f"--param {name}={text}: not a {kind} value") from None


def root_parameters(spec: dict, job_values: dict, overrides: dict[str, str], localize: Callable) -> dict:
    """The pipeline's input parameters: compiled defaults (localized), a job's values, overrides."""
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ValueError(f"--param {', '.join(unknown)}: the package declares only {', '.join(sorted(declared))}")
    values = {name: localize(body["defaultValue"]) for name, body in declared.items() if "defaultValue" in body}
    values.update({name: localize(value) for name, value in job_values.items() if name in declared})
    values.update({name: _typed(name, text, declared[name]) for name, text in overrides.items()})
    missing = sorted(set(declared) - set(values))
    if missing:
        raise ValueError(f"the package needs a value for {', '.join(missing)}: pass --param NAME=VALUE")
    return values


def task_upstream(tasks: dict) -> dict[str, set[str]]:
    """{task: the tasks it waits for}: its dependentTasks and the producers of its input artifacts."""
    return {name: set(body.get("dependentTasks", [])) | {
        a["taskOutputArtifact"]["producerTask"] for a in body.get("inputs", {}).get("artifacts", {}).values()}
        for name, body in tasks.items()}


def task_order(tasks: dict) -> list[str]:
    """Tasks in topological order (upstream first; ties by name, for repeatable runs)."""
    upstream = task_upstream(tasks)
    order: list[str] = []
    while len(order) < len(tasks):
        ready = sorted(n for n in tasks if n not in order and upstream[n] <= set(order))
        if not ready:
            raise ValueError(f"the package's tasks form a cycle: {sorted(set(tasks) - set(order))}")
        order.append(ready[0])
    return order


# ------------------------------------------------------------------------------ executor input


def through_mlmd(value: Any) -> Any:
    """A metadata value as KFP's launcher records it in ML Metadata and its driver reads it back
    (metadata/converter.go): numbers as doubles, booleans as 0/1, lists and structs wrapped."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return {"list": value}
    if isinstance(value, dict):
        return {"struct": value}
    if value is None:
        raise ValueError("KFP's launcher cannot record a null metadata value")
    return value


def input_artifact(record: dict, declared_type: dict, vertex: bool) -> dict:
    """An upstream output as the consuming step's executor input carries it."""
    if vertex:
        return {"name": VERTEX_ARTIFACT.format(record["id"]), "uri": record["uri"],
                "metadata": record["metadata"], "type": declared_type}
    metadata = {key: through_mlmd(value) for key, value in record["metadata"].items()}
    metadata.setdefault("display_name", record["key"])
    return {"name": str(record["id"]), "uri": record["uri"], "metadata": metadata, "type": {"instanceSchema": ""}}


def compile_command(parts: list[str], executor_input: str) -> list[str]:
    """The launcher's placeholder substitution; `python` is this interpreter (the image's)."""
    compiled = [part.replace(EXECUTOR_INPUT, executor_input) for part in parts]
    left = [part for part in compiled if "{{$" in part]
    if left:
        raise ValueError(f"placeholders other than {EXECUTOR_INPUT} are not run here: {left[0][:80]}")
    return [sys.executable if i == 0 and part == "python" else part for i, part in enumerate(compiled)]


def cache_key(executor_input: dict, container: dict) -> str:
    """KFP's cache fingerprint inputs (cacheutils/cache.go): input artifact names, parameter
    values, output artifact specs without URIs, image, command and arguments."""
    key = {"inputArtifactNames": {k: [a["name"] for a in v["artifacts"]]
                                  for k, v in executor_input["inputs"].get("artifacts", {}).items()},
           "inputParameterValues": executor_input["inputs"].get("parameterValues", {}),
           "outputArtifactsSpec": {k: {f: a.get(f) for f in ("name", "type", "metadata")}
                                   for k, v in executor_input["outputs"]["artifacts"].items() for a in v["artifacts"]},
           "containerSpec": {"image": container["image"],
                             "cmdArgs": container.get("command", []) + container.get("args", [])}}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


# ----------------------------------------------------------------------------------------- run


class PackageRun:
    """One run of a package under a work folder: root/ (the pipeline root), logs/, cache/."""

    def __init__(self, package: str, work: str, overrides: dict[str, str], vertex: bool, cache: bool,
                 beam_in_process: bool, report: Callable[[str], None], parallel: int = 1):
        self.spec, job_values, self.compiled_root = load_package(package)
        check_runnable(self.spec)
        self.vertex, self.cache, self.beam_in_process, self.report = vertex, cache, beam_in_process, report
        self.work = os.path.abspath(work)
        self.root = os.path.join(self.work, "root")
        self.run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.logs = os.path.join(self.work, "logs", self.run_id)
        self.parameters = root_parameters(self.spec, job_values, overrides, self.localize)
        self.outputs: dict[str, dict[str, dict]] = {}  # task → output key → artifact record
        self.states: list[dict] = []
        self.parallel = max(1, parallel)
        self._ids_lock = threading.Lock()

    def localize(self, value: Any) -> Any:
        """A compiled value with the image's project folder and the pipeline root of this machine."""
        if not isinstance(value, str):
            return value
        if self.compiled_root:
            value = re.sub(re.escape(self.compiled_root.rstrip("/")) + r"(?=/|\"|$)", self.root, value)
        return _IMAGE_PATH.sub(REPO_ROOT, value)

    def _new_id(self) -> int:
        """The next artifact id, as a metadata store hands them out (kept across runs of WORK)."""
        path = os.path.join(self.work, "next_artifact_id")
        os.makedirs(self.work, exist_ok=True)
        with self._ids_lock, open(path, "a+") as f:
            f.seek(0)
            next_id = int(f.read() or 1)
            f.seek(0)
            f.truncate()
            f.write(str(next_id + 1))
        return next_id

    def run(self) -> dict:
        os.makedirs(self.logs, exist_ok=True)
        mode = "Vertex AI Pipelines" if self.vertex else "a Kubeflow Pipelines 2.x backend"
        self.report(f"flowers run-package: run {self.run_id} as {mode} runs it")
        self.report(f"  pipeline root {self.root} (step logs: {self.logs})")
        started = time.time()
        try:
            self._run_tasks(self.spec["root"]["dag"]["tasks"])
        finally:  # what ran, as a metadata store would keep it: the outputs of every step
            with open(os.path.join(self.logs, "run.json"), "w") as f:
                json.dump({"run_id": self.run_id, "components": self.states, "outputs": self.outputs}, f,
                          indent=1, sort_keys=True)
        return {"seconds": round(time.time() - started, 1), **self._summary()}

    def _run_tasks(self, tasks: dict) -> None:
        """Every task once its upstream tasks are done, up to `parallel` at a time, as the backend
        starts each task as soon as it can. After a failure nothing new starts; the running tasks
        finish, and the first failure is raised."""
        order, upstream = task_order(tasks), task_upstream(tasks)
        done: set[str] = set()
        failures: list[BaseException] = []
        with ThreadPoolExecutor(self.parallel) as pool:
            running: dict = {}
            while True:
                started = done | set(running.values())
                for name in [n for n in order if not failures and n not in started and upstream[n] <= done]:
                    running[pool.submit(self._run_task, name, tasks[name])] = name
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    if future.exception() is not None:
                        failures.append(future.exception())
                    else:
                        done.add(name)
        if failures:
            raise failures[0]

    def _executor_input(self, name: str, task: dict, component: dict) -> tuple[dict, dict]:
        """(the executor input of one task, its output artifact records by key)."""
        parameters = {}
        for key, source in task.get("inputs", {}).get("parameters", {}).items():
            if "componentInputParameter" in source:
                parameters[key] = self.parameters[source["componentInputParameter"]]
            elif "runtimeValue" in source:
                parameters[key] = self.localize(source["runtimeValue"]["constant"])
            else:
                raise ValueError(f"{name}: input parameter {key} comes from {sorted(source)}, which is not run here")
        declared_inputs = component.get("inputDefinitions", {}).get("artifacts", {})
        artifacts = {}
        for key, source in task.get("inputs", {}).get("artifacts", {}).items():
            producer = source["taskOutputArtifact"]
            record = self.outputs[producer["producerTask"]][producer["outputArtifactKey"]]
            artifacts[key] = {"artifacts": [input_artifact(record, declared_inputs[key]["artifactType"], self.vertex)]}
        salt = uuid.uuid4().hex
        task_root = (f"{self.root}/{self.run_id}/{name}_{salt}" if self.vertex
                     else f"{self.root}/{self.spec['pipelineInfo']['name']}/{self.run_id}/{name}/{salt}")
        records, outputs = {}, {}
        for key, declared in component.get("outputDefinitions", {}).get("artifacts", {}).items():
            record = {"id": self._new_id(), "key": key, "uri": f"{task_root}/{key}", "metadata": {}}
            records[key] = record
            outputs[key] = {"artifacts": [{"name": VERTEX_ARTIFACT.format(record["id"]) if self.vertex else key,
                                           "uri": record["uri"], "type": declared["artifactType"]}]}
        if component.get("outputDefinitions", {}).get("parameters"):
            raise ValueError(f"{name}: output parameters are not run here")
        output_file = f"{task_root}/{'executor_output' if self.vertex else 'output_metadata'}.json"
        return ({"inputs": {"parameterValues": parameters, "artifacts": artifacts},
                 "outputs": {"artifacts": outputs, "outputFile": output_file}}, records)

    def _run_task(self, name: str, task: dict) -> None:
        component = self.spec["components"][task["componentRef"]["name"]]
        executor = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]
        if "container" not in executor:
            raise ValueError(f"{name}: a {'/'.join(k for k in executor if k in RUNNABLE_EXECUTORS)} step is not "
                             "run here (the backend runs it without a container)")
        container = executor["container"]
        executor_input, records = self._executor_input(name, task, component)
        log = os.path.join(self.logs, f"{name}.log")
        started = time.time()
        if self.vertex and "preCacheCheck" in container.get("lifecycle", {}):
            self.report(f"  {name} (preCacheCheck) ...")
            hook = container["lifecycle"]["preCacheCheck"]
            self._execute(name, hook.get("command", []) + hook.get("args", []), executor_input, log)
            self._apply_hook_output(executor_input, records)
        key = cache_key(executor_input, container)
        cached = self._cached(key) if self.cache and task.get("cachingOptions", {}).get("enableCache") else None
        if cached is not None:
            self.outputs[name] = cached
            self._state(name, "cached", started)
            self.report(f"  {name} cached")
            return
        self.report(f"  {name} ...")
        self._execute(name, container.get("command", []) + container.get("args", []), executor_input, log)
        self._collect(executor_input["outputs"]["outputFile"], records)
        self.outputs[name] = records
        self._state(name, "complete", started)
        self.report(f"  {name} done in {time.time() - started:.1f}s")
        if self.cache and task.get("cachingOptions", {}).get("enableCache"):
            self._store(key, name, records)

    def _execute(self, name: str, parts: list[str], executor_input: dict, log: str) -> None:
        """Runs one command as the image would: in the checkout, Keras 2, Beam workers capped at
        this machine's cores."""
        command = beam_here(compile_command(parts, json.dumps(executor_input)), self.beam_in_process)
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))}
        started = time.time()
        with open(log, "a") as out:
            proc = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            self._state(name, "failed", started)
            raise StepFailedError(f"step {name} failed (exit {proc.returncode}): {_last_error(log)}; its log: {log}")

    def _apply_hook_output(self, executor_input: dict, records: dict) -> None:
        """What Vertex AI does with a preCacheCheck's output before its cache check: the task's
        parameters and output artifacts updated with it (TFX's entrypoint also reads the file)."""
        written = _read_json(executor_input["outputs"]["outputFile"])
        executor_input["inputs"]["parameterValues"].update(written.get("parameterValues", {}))
        for key, artifacts in written.get("artifacts", {}).items():
            if key in records and artifacts.get("artifacts"):
                metadata = artifacts["artifacts"][0].get("metadata", {})
                executor_input["outputs"]["artifacts"][key]["artifacts"][0]["metadata"] = metadata
                records[key]["metadata"].update(metadata)

    def _collect(self, output_file: str, records: dict) -> None:
        """The launcher's merge of the executor output into the output artifacts (URI, metadata)."""
        for key, artifacts in _read_json(output_file).get("artifacts", {}).items():
            if key in records and artifacts.get("artifacts"):
                written = artifacts["artifacts"][0]
                records[key]["uri"] = written.get("uri") or records[key]["uri"]
                records[key]["metadata"].update(written.get("metadata", {}))

    def _cached(self, key: str) -> Optional[dict]:
        path = os.path.join(self.work, "cache", f"{key}.json")
        return _read_json(path)["outputs"] if os.path.exists(path) else None

    def _store(self, key: str, name: str, records: dict) -> None:
        os.makedirs(os.path.join(self.work, "cache"), exist_ok=True)
        with open(os.path.join(self.work, "cache", f"{key}.json"), "w") as f:
            json.dump({"task": name, "run_id": self.run_id, "outputs": records}, f, sort_keys=True)

    def _state(self, name: str, state: str, started: float) -> None:
        self.states.append({"name": name, "state": state, "seconds": round(time.time() - started, 1)})

    def _summary(self) -> dict:
        """What `flowers run` reports, read from the steps' outputs."""
        from pipeline.summary import accuracy_by_model

        summary: dict = {"run_id": self.run_id, "mode": "vertex" if self.vertex else "kfp", "components": self.states,
                         "accuracy": None, "baseline_accuracy": None, "per_class_accuracy": {}, "blessed": None,
                         "pushed": False, "pushed_model_dir": None, "spans": [], "pipeline_root": self.root,
                         "logs": self.logs, "parameters": self.parameters}
        for records in self.outputs.values():
            for key, record in records.items():
                metadata = record["metadata"]
                if key == "examples" and ("custom:span" in metadata or "span" in metadata):
                    summary["spans"].append(int(metadata.get("custom:span", metadata.get("span"))))
                elif key == "blessing":
                    summary["blessed"] = bool(metadata.get("blessed"))
                elif key == "evaluation":
                    overall, per_class = accuracy_by_model(record["uri"])
                    summary.update(accuracy=overall.get("candidate"), baseline_accuracy=overall.get("baseline"),
                                   per_class_accuracy=dict(sorted(per_class.items())))
                elif key == "model_run":
                    summary["tensorboard_dir"] = record["uri"]
                elif key == "pushed_model":
                    summary["pushed"] = bool(metadata.get("pushed"))
                    summary["pushed_model_dir"] = metadata.get("pushed_destination") if summary["pushed"] else None
        summary["spans"] = sorted(set(summary["spans"]))
        return summary


def beam_here(command: list[str], in_process: bool) -> list[str]:
    """A step's command with Beam's compiled worker count capped at this machine's cores, or with
    `in_process`, Beam running in the step's own process (`flowers run`'s mode for small data)."""
    if in_process:
        command = [part for part in command if not part.startswith("--direct_num_workers=")]
        return ["--direct_running_mode=in_memory" if part.startswith("--direct_running_mode=") else part
                for part in command]
    cores = os.cpu_count() or 1
    return [f"--direct_num_workers={min(int(part.split('=')[1]), cores)}"
            if part.startswith("--direct_num_workers=") else part for part in command]


def _read_json(path: str) -> dict:
    if not os.path.exists(path):  # a step may write no executor output (the launcher's rule too)
        return {}
    with open(path) as f:
        return json.load(f)


def _last_error(log: str) -> str:
    """The last exception line of a step's log, with the indented lines that continue it."""
    with open(log, errors="replace") as f:
        lines = f.read().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        match = _ERROR_LINE.match(lines[i])
        if match:
            rest = list(itertools.takewhile(lambda line: line.startswith((" ", "\t")), lines[i + 1:i + 12]))
            return "\n".join([f"{match.group(1)}: {lines[i][match.end():]}", *rest])
    return lines[-1] if lines else "no output"


def run_package(package: str, work: str = DEFAULT_WORK, overrides: Optional[dict[str, str]] = None,
                vertex: bool = False, cache: bool = True, beam_in_process: bool = False,
                report: Callable[[str], None] = print, parallel: int = DEFAULT_PARALLEL) -> dict:
    """Runs `package` here (see the module's docstring) and returns a summary like `flowers run`'s."""
    from pipeline.lock import output_lock

    with output_lock(os.path.abspath(work)):
        return PackageRun(package, work, overrides or {}, vertex, cache, beam_in_process, report, parallel).run()


def parse_params(pairs: list[str]) -> dict[str, str]:
    """NAME=VALUE flags → {NAME: VALUE}."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--param {pair!r}: expected NAME=VALUE")
        params[name] = value
    return params
