"""`flowers run-package`'s model of a KFP 2.x backend, checked piece by piece on the compiled package
(no step runs here: see test_run_package.py): what it refuses, the order of the steps, parameters,
and the executor input each step gets, shaped as KFP's driver or as Vertex AI shapes it."""
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
