"""`flowers compile | submit | schedule`: flags in, the functions of pipeline/kubeflow.py called."""
import json

import pytest
import yaml

from pipeline import cli
from pipeline.config import ACCEPT_DRIFT_PARAM, TRAINER_PARAM
from tests.kubeflow.recorder import kfp_answer, serving


def test_compile_flags_reach_the_spec(tmp_path, capsys):
    package = tmp_path / "flowers.yaml"
    code = cli.main(["compile", "--output", str(package), "--image", "gcr.io/p/flowers:7",
                     "--pipeline-root", "gs://b/root", "--model", "dense", "--epochs", "2",
                     "--min-accuracy", "0.7", "--trainer-accelerator", "nvidia.com/gpu:2", "--cpu", "3"])
    assert code == 0
    assert f"Wrote {package}" in capsys.readouterr().out
    spec = yaml.safe_load(package.read_text())
    declared = spec["root"]["inputDefinitions"]["parameters"]
    train = json.loads(declared[TRAINER_PARAM]["defaultValue"])
    assert (train["model"], train["epochs"]) == ("dense", 2)
    assert '"lowerBound": 0.7' in declared["eval_config"]["defaultValue"]
    executors = spec["deploymentSpec"]["executors"]
    assert executors["Trainer_executor"]["container"]["resources"]["accelerator"]["count"] == "2"
    assert executors["Trainer_executor"]["container"]["resources"]["cpuLimit"] == 8.0  # Trainer's default kept
    assert executors["Pusher_executor"]["container"]["resources"]["cpuLimit"] == 3.0
    assert {e["container"]["image"] for e in executors.values() if "container" in e} == {"gcr.io/p/flowers:7"}


@pytest.mark.parametrize("flags, message", [
    ([], "the following arguments are required: --pipeline-root"),
    (["--pipeline-root", "gs://b/r", "--trainer-accelerator", ":2"], "expected TYPE[:COUNT]"),
])
def test_compile_usage_errors_exit_2(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["compile", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_submit_sends_the_overrides(compiled, capsys):
    with serving(kfp_answer(pipeline_exists=False)) as server:
        code = cli.main(["submit", "--host", server.url, "--package", compiled["summary"]["package"],
                         "--experiment", "cli", "--run-name", "from the cli", "--epochs", "4", "--accept-drift"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["run_id"] == "run-1" and set(printed["parameters"]) == {TRAINER_PARAM, ACCEPT_DRIFT_PARAM}
    [run] = server.find("POST", "/apis/v2beta1/runs")
    body = json.loads(run["body"])
    assert body["display_name"] == "from the cli"
    assert json.loads(body["runtime_config"]["parameters"][TRAINER_PARAM])["epochs"] == 4
    assert body["runtime_config"]["parameters"][ACCEPT_DRIFT_PARAM] == 1


def test_submit_without_a_compiled_package_says_what_to_do(tmp_path, capsys):
    code = cli.main(["submit", "--host", "http://127.0.0.1:9", "--package", str(tmp_path / "none.yaml"),
                     "--epochs", "2"])
    assert code == 1
    assert "run `flowers compile` first" in capsys.readouterr().err
