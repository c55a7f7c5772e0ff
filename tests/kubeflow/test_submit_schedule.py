"""`flowers submit` / `flowers schedule`: the requests kfp's and aiplatform's own clients send, recorded
by a stand-in server on 127.0.0.1 (there is no KFP server or Vertex AI here)."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from pipeline import cli, deploy
from pipeline.pipeline import DATA_PARAM, TRAINER_PARAM
from tests.kubeflow.conftest import PIPELINE_ROOT
from tests.kubeflow.recorder import kfp_answer, serving, vertex_answer


def body_of(request: dict) -> dict:
    return json.loads(request["body"])


def test_submit_sends_the_package_and_the_changed_parameters(compiled, monkeypatch, tmp_path):
    package = compiled["summary"]["package"]
    token = tmp_path / "token"
    token.write_text("secret-token")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token))  # KFP's convention for a token file
    values = deploy.parameter_values(package, data="gs://bucket/more-flowers", epochs=3)
    with serving(kfp_answer(pipeline_exists=False)) as server:
        monkeypatch.setenv("KF_PIPELINES_ENDPOINT", server.url)  # host from KFP's own variable
        result = deploy.submit(package, experiment="nightly", run_name="flowers test", values=values,
                                 pipeline_root="gs://other/root")
    assert result["run_id"] == "run-1"
    [experiment] = server.find("POST", "/experiments")
    assert body_of(experiment)["display_name"] == "nightly"
    [run] = server.find("POST", "/apis/v2beta1/runs")
    body = body_of(run)
    assert body["display_name"] == "flowers test" and body["experiment_id"] == "exp-1"
    assert body["runtime_config"] == {"parameters": values, "pipeline_root": "gs://other/root"}
    assert json.loads(body["runtime_config"]["parameters"][TRAINER_PARAM])["epochs"] == 3
    sent_spec = body["pipeline_spec"]  # the package itself, inline
    package_spec = yaml.safe_load(compiled["text"])
    assert sent_spec["pipelineInfo"] == {"name": "flowers"}
    assert sent_spec["root"] == package_spec["root"]
    assert sent_spec["deploymentSpec"] == package_spec["deploymentSpec"]
    assert all(r["headers"].get("authorization") == "Bearer secret-token" for r in server.requests)


@pytest.mark.parametrize("pipeline_exists", [False, True])
def test_schedule_uploads_the_package_and_creates_a_recurring_run(compiled, pipeline_exists):
    package = compiled["summary"]["package"]
    with serving(kfp_answer(pipeline_exists)) as server:
        result = deploy.schedule(package, "0 0 3 * * *", server.url,
                                   values={DATA_PARAM: "gs://bucket/flowers"})
    upload_route = "/pipelines/upload_version" if pipeline_exists else "/pipelines/upload?"
    [upload] = server.find("POST", upload_route)
    assert compiled["text"].encode() in upload["body"]  # the compiled file, as a multipart upload
    query = parse_qs(urlsplit(upload["path"]).query)
    assert query.get("pipelineid" if pipeline_exists else "name") == ["pipe-1" if pipeline_exists else "flowers"]
    version = "ver-2" if pipeline_exists else "ver-1"
    assert result == {"recurring_run_id": "rr-1", "pipeline_id": "pipe-1", "version_id": version,
                      "experiment_id": "exp-1", "cron": "0 0 3 * * *"}
    [recurring] = server.find("POST", "/recurringruns")
    body = body_of(recurring)
    assert body["trigger"] == {"cron_schedule": {"cron": "0 0 3 * * *"}}
    assert int(body["max_concurrency"]) == 1 and body["no_catchup"] is True and body["mode"] == "ENABLE"
    assert body["pipeline_version_reference"] == {"pipeline_id": "pipe-1", "pipeline_version_id": version}
    assert "pipeline_spec" not in body  # runs the uploaded version
    assert body["runtime_config"]["parameters"] == {DATA_PARAM: "gs://bucket/flowers"}


@pytest.mark.parametrize("cron, vertex, message", [
    ("0 3 * * *", False, 'KFP cron has six fields (seconds first): did you mean "0 0 3 * * *"?'),
    ("0 0 3 * * *", True, 'Vertex AI cron has five fields (no seconds): did you mean "0 3 * * *"?'),
    ("TZ=Europe/Paris 0 0 3 * * *", True, 'did you mean "TZ=Europe/Paris 0 3 * * *"?'),
    ("3am daily", False, "KFP cron has six fields (seconds first), e.g. \"0 0 3 * * *\""),
    ("0 0 3 * * mon;", False, "'mon;' is not a cron field"),
])
def test_wrong_cron_is_refused_with_the_fix(cron, vertex, message):
    with pytest.raises(deploy.CronError) as error:
        deploy.check_cron(cron, vertex=vertex)
    assert message in str(error.value)


@pytest.mark.parametrize("cron, vertex", [("0 0 3 * * *", False), ("0 3 * * 1-5", True),
                                          ("TZ=Europe/Paris 0 3 * * *", True)])
def test_right_cron_passes(cron, vertex):
    assert deploy.check_cron(cron, vertex=vertex) == cron


def test_cli_five_field_cron_exits_2_before_any_request(compiled, capsys):
    with serving(kfp_answer(pipeline_exists=False)) as server:
        code = cli.main(["schedule", "--host", server.url, "--cron", "0 3 * * *",
                         "--package", compiled["summary"]["package"]])
    assert code == 2
    assert 'KFP cron has six fields (seconds first): did you mean "0 0 3 * * *"?' in capsys.readouterr().err
    assert server.requests == []


@pytest.fixture
def vertex_server(monkeypatch):
    """aiplatform's REST transport and the storage client pointed at the recorder."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.aiplatform import initializer

    with serving(vertex_answer) as server:
        # A fresh global config, dropped after the test (aiplatform.init is bound to the original one).
        monkeypatch.setattr(initializer, "global_config", initializer._Config())
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
        initializer.global_config.init(api_endpoint=server.url, api_transport="rest",
                                       credentials=AnonymousCredentials())
        yield server


def test_vertex_submit_and_schedule_send_the_pipeline_job(compiled, vertex_server):
    package = compiled["vertex"]["package"]
    values = deploy.parameter_values(package, model="dense")
    submitted = deploy.submit_vertex(package, values, run_name="flowers-test", project="p", region="europe-west4")
    scheduled = deploy.schedule_vertex(package, "0 3 * * *", values, project="p", region="europe-west4")
    assert submitted["pipeline_job"].endswith("/pipelineJobs/job-1")
    assert scheduled == {"schedule": "projects/p/locations/europe-west4/schedules/sched-1", "cron": "0 3 * * *"}

    assert vertex_server.find("GET", "/storage/v1/b/flowers-test")  # the root's bucket, checked not created
    [job_request] = vertex_server.find("POST", "/v1/projects/p/locations/europe-west4/pipelineJobs")
    job = body_of(job_request)
    assert job["displayName"] == "flowers-test"
    assert job["runtimeConfig"]["gcsOutputDirectory"] == PIPELINE_ROOT
    parameters = job["runtimeConfig"]["parameterValues"]
    assert parameters == {**compiled["summary"]["parameters"], **values}
    assert json.loads(parameters[TRAINER_PARAM])["model"] == "dense"
    assert job["pipelineSpec"]["root"] == json.loads(compiled["vertex_text"])["pipelineSpec"]["root"]

    [schedule_request] = vertex_server.find("POST", "/v1/projects/p/locations/europe-west4/schedules")
    schedule = body_of(schedule_request)
    assert schedule["cron"] == "0 3 * * *" and int(schedule["maxConcurrentRunCount"]) == 1
    assert schedule["createPipelineJobRequest"]["pipelineJob"]["runtimeConfig"]["parameterValues"] == parameters
