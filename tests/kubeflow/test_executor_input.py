"""`flowers run-package`'s model of a KFP 2.x backend, checked piece by piece on the compiled package
(no pipeline step runs here: see test_run_package.py): what it refuses, the order of the steps,
parameters, and the executor input each step gets, shaped as KFP's driver or as Vertex AI shapes it;
then how steps are scheduled, on a small package of timed steps."""
import json
import os

import pytest
import yaml

from pipeline import cli
from pipeline.config import DATA_PARAM, TRAINER_PARAM
from pipeline.kubeflow import REPO_ROOT
from pipeline.run_package import (PackageRun, cache_key, input_artifact, parse_params, run_package, task_order,
                                  through_mlmd)
from tests.kubeflow.conftest import PIPELINE_ROOT

RECORD = {"id": 17, "key": "examples", "uri": "/w/root/flowers/r/ImportExampleGen/u/examples",
          "metadata": {"split_names": '["train", "eval"]', "custom:span": 2.0, "input_fingerprint": "f"}}


def package_run(compiled, tmp_path, vertex=False, **overrides) -> PackageRun:
    return PackageRun(compiled["summary"]["package"], str(tmp_path / "work"), overrides, vertex, cache=True,
                      beam_in_process=False, report=lambda line: None)


def test_a_package_with_a_resolver_is_refused_before_any_step(compiled, tmp_path):
    spec = yaml.safe_load(compiled["text"])
    spec["deploymentSpec"]["executors"]["resolver_executor"] = {"resolver": {"outputArtifactQueries": {}}}
    package = tmp_path / "with_resolver.yaml"
    package.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="neither container nor importer: an open-source Kubeflow Pipelines"):
        run_package(str(package), str(tmp_path / "work"), report=lambda line: None)
    assert not (tmp_path / "work" / "logs").exists()


def test_steps_run_upstream_first(compiled):
    tasks = json.loads(json.dumps(yaml.safe_load(compiled["text"])["root"]["dag"]["tasks"]))
    order = task_order(tasks)
    assert sorted(order) == sorted(tasks)
    for name, task in tasks.items():
        assert all(order.index(upstream) < order.index(name) for upstream in task.get("dependentTasks", [])), name
    assert order.index("AnomaliesGate") < order.index("Transform") < order.index("Trainer") < order.index("Pusher")


def test_parameters_are_the_compiled_defaults_mapped_here_then_the_overrides(compiled, tmp_path, monkeypatch):
    run = package_run(compiled, tmp_path)
    assert run.parameters[DATA_PARAM] == os.path.join(REPO_ROOT, "data", "default")  # the image's /flowers
    assert run.localize(f'{{"base_directory": "{PIPELINE_ROOT}/serving"}}') == \
        f'{{"base_directory": "{tmp_path}/work/root/serving"}}'
    assert run.localize("gs://flowers-test/rooted/x") == "gs://flowers-test/rooted/x"  # not the root
    (tmp_path / "records").mkdir()
    monkeypatch.chdir(tmp_path)
    run = package_run(compiled, tmp_path, **{DATA_PARAM: "records", TRAINER_PARAM: '{"epochs": 3}'})
    assert run.parameters[DATA_PARAM] == str(tmp_path / "records")  # steps run in the checkout: made absolute
    assert run.parameters[TRAINER_PARAM] == '{"epochs": 3}'
    with pytest.raises(ValueError, match="--param epochs: the package declares only accept_drift, data, eval_config, trainer_config"):
        package_run(compiled, tmp_path, epochs="3")
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        parse_params(["epochs"])


def test_kfp_hands_an_input_artifact_untyped_with_metadata_gone_through_mlmd():
    kfp = input_artifact(RECORD, {"instanceSchema": "title: tfx.Examples\n"}, vertex=False)
    assert kfp == {"name": "17", "uri": RECORD["uri"], "type": {"instanceSchema": ""}, "metadata": {
        **RECORD["metadata"], "display_name": "examples"}}
    assert [through_mlmd(v) for v in (True, 3, 0.5, "s", [1], {"a": 1})] == [1.0, 3.0, 0.5, "s", {"list": [1]},
                                                                          {"struct": {"a": 1}}]
    with pytest.raises(ValueError, match="null"):
        through_mlmd(None)


def test_vertex_hands_an_input_artifact_typed_as_declared():
    declared = {"instanceSchema": "title: tfx.Examples\n"}
    vertex = input_artifact(RECORD, declared, vertex=True)
    assert vertex == {"name": "projects/local/locations/local/metadataStores/default/artifacts/17",
                      "uri": RECORD["uri"], "type": declared, "metadata": RECORD["metadata"]}


@pytest.mark.parametrize("vertex", [False, True])
def test_outputs_are_provisioned_under_the_run_as_the_backend_does(compiled, tmp_path, vertex):
    run = package_run(compiled, tmp_path, vertex=vertex)
    run.outputs["ImportExampleGen"] = {"examples": RECORD}
    spec = run.spec
    task = spec["root"]["dag"]["tasks"]["StatisticsGen"]
    executor_input, records = run._executor_input("StatisticsGen", task, spec["components"]["StatisticsGen"])
    [output] = executor_input["outputs"]["artifacts"]["statistics"]["artifacts"]
    root = tmp_path / "work" / "root"
    if vertex:
        assert output["uri"].startswith(f"{root}/{run.run_id}/StatisticsGen_")
        assert executor_input["outputs"]["outputFile"].endswith("/executor_output.json")
        assert output["name"].startswith("projects/local/")
    else:  # {root}/{pipeline}/{run}/{task}/{uuid}/{key}, the output file beside
        assert output["uri"].startswith(f"{root}/flowers/{run.run_id}/StatisticsGen/")
        assert output["name"] == "statistics"
        assert executor_input["outputs"]["outputFile"] == os.path.join(os.path.dirname(output["uri"]),
                                                                       "output_metadata.json")
    assert output["type"]["instanceSchema"].startswith("title: tfx.ExampleStatistics")
    assert records["statistics"]["uri"] == output["uri"]
    assert executor_input["inputs"]["parameterValues"] == {"exclude_splits": "[]"}
    [examples] = executor_input["inputs"]["artifacts"]["examples"]["artifacts"]
    assert examples["type"] == ({"instanceSchema": ""} if not vertex else
                                spec["components"]["StatisticsGen"]["inputDefinitions"]["artifacts"]["examples"]["artifactType"])


def test_the_cache_key_is_what_kfp_fingerprints(compiled, tmp_path):
    """Input artifact names, parameter values, output specs without their URIs, image, command."""
    run = package_run(compiled, tmp_path)
    spec = run.spec
    container = spec["deploymentSpec"]["executors"]["Baseline_executor"]["container"]
    first, _ = run._executor_input("Baseline", spec["root"]["dag"]["tasks"]["Baseline"],
                                   spec["components"]["Baseline"])
    second, _ = run._executor_input("Baseline", spec["root"]["dag"]["tasks"]["Baseline"],
                                    spec["components"]["Baseline"])
    assert first["outputs"]["artifacts"] != second["outputs"]["artifacts"]  # new URIs each time
    assert cache_key(first, container) == cache_key(second, container)
    second["inputs"]["parameterValues"]["serving_root"] = "/elsewhere/serving"
    assert cache_key(first, container) != cache_key(second, container)


def test_the_cli_refuses_a_missing_package(tmp_path, capsys):
    code = cli.main(["run-package", str(tmp_path / "none.yaml"), "--work", str(tmp_path / "work")])
    assert code == 1
    assert "no compiled pipeline at" in capsys.readouterr().err


def test_a_failed_step_is_reported_by_its_last_error(tmp_path):
    from pipeline.run_package import _last_error

    log = tmp_path / "AnomaliesGate.log"
    log.write_text("I1202 step started\nTraceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
                   "components.anomalies_gate.DataAnomaliesError: ExampleValidator found 1 anomaly against the "
                   "schema; stopping before Transform:\n  split 'train': feature 'size': Expected data of type: INT\n"
                   "I1202 beam shut down\n")
    assert _last_error(str(log)) == ("DataAnomaliesError: ExampleValidator found 1 anomaly against the schema; "
                                     "stopping before Transform:\n  split 'train': feature 'size': Expected data of "
                                     "type: INT")


# A step that notes when it starts and ends in a shared file, takes `seconds`, and exits with `code`.
TIMED_STEP = ("import pathlib, sys, time\n"
              "name, seconds, code, times = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), pathlib.Path(sys.argv[4])\n"
              "with times.open('a') as f: f.write(f'{name} start {time.time()}\\n')\n"
              "time.sleep(seconds)\n"
              "with times.open('a') as f: f.write(f'{name} end {time.time()}\\n')\n"
              "sys.exit(code)\n")


def timed_package(path, times, steps: dict) -> str:
    """A KFP package of container steps {name: (seconds, exit code, upstream tasks)}."""
    spec = {"pipelineInfo": {"name": "timed"}, "components": {}, "deploymentSpec": {"executors": {}},
            "root": {"dag": {"tasks": {}}}}
    for name, (seconds, code, upstream) in steps.items():
        spec["components"][f"comp-{name}"] = {"executorLabel": f"exec-{name}"}
        spec["deploymentSpec"]["executors"][f"exec-{name}"] = {"container": {
            "image": "python:3.11", "command": ["python", "-c", TIMED_STEP, name, str(seconds), str(code), str(times)]}}
        spec["root"]["dag"]["tasks"][name] = {"componentRef": {"name": f"comp-{name}"}, "dependentTasks": upstream,
                                              "taskInfo": {"name": name}}
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def step_times(times) -> dict:
    spans: dict = {}
    for line in times.read_text().splitlines():
        name, edge, at = line.split()
        spans.setdefault(name, {})[edge] = float(at)
    return spans


def test_independent_steps_run_at_once_each_after_its_upstream(tmp_path):
    times = tmp_path / "times"
    steps = {"a": (0.5, 0, []), "b": (2, 0, ["a"]), "c": (2, 0, ["a"]), "d": (0.1, 0, ["b", "c"])}
    summary = run_package(timed_package(tmp_path / "timed.yaml", times, steps), str(tmp_path / "work"),
                          report=lambda line: None, parallel=2)
    assert {c["name"]: c["state"] for c in summary["components"]} == dict.fromkeys(steps, "complete")
    spans = step_times(times)
    for name, (_, _, upstream) in steps.items():
        assert all(spans[up]["end"] <= spans[name]["start"] for up in upstream), (name, spans)
    assert spans["b"]["start"] < spans["c"]["end"] and spans["c"]["start"] < spans["b"]["end"], spans  # overlapped


def test_after_a_failed_step_the_running_ones_finish_and_nothing_new_starts(tmp_path):
    from pipeline.run_package import StepFailedError

    times = tmp_path / "times"
    steps = {"a": (0.1, 0, []), "b": (2, 0, ["a"]), "c": (0.1, 3, ["a"]), "d": (0.1, 0, ["b"])}
    with pytest.raises(StepFailedError, match="step c failed \\(exit 3\\)"):
        run_package(timed_package(tmp_path / "timed.yaml", times, steps), str(tmp_path / "work"),
                    report=lambda line: None, parallel=2)
    assert set(step_times(times)) == {"a", "b", "c"} and "end" in step_times(times)["b"]
    [run] = (tmp_path / "work" / "logs").iterdir()
    states = {c["name"]: c["state"] for c in json.loads((run / "run.json").read_text())["components"]}
    assert states == {"a": "complete", "b": "complete", "c": "failed"}
