"""One compiled pipeline (KFP YAML and Vertex AI JSON) shared by the Kubeflow tests."""
from pathlib import Path

import pytest
import yaml

from pipeline.config import KubeflowConfig, Resources, RunConfig

IMAGE = "registry.example/flowers-tfx:test"
PIPELINE_ROOT = "gs://flowers-test/root"
TRAINER = Resources(cpu=8, memory_gb=32, accelerator="nvidia.com/gpu", accelerator_count=1)


def cluster_config(**overrides) -> RunConfig:
    kubeflow = KubeflowConfig(image=IMAGE, pipeline_root=PIPELINE_ROOT, resources=(
        ("default", Resources(cpu=2, memory_gb=8)), ("Trainer", TRAINER)))
    return RunConfig(kubeflow=kubeflow, **overrides)


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> dict:
    from kfp.pipeline_spec import pipeline_spec_pb2
    from google.protobuf import json_format

    from pipeline import kubeflow

    out = tmp_path_factory.mktemp("compiled")
    config = cluster_config()
    summary = kubeflow.compile_pipeline(config, str(out / "flowers_pipeline.yaml"))
    vertex = kubeflow.compile_pipeline(config, str(out / "flowers_pipeline.json"), vertex=True)
    text = Path(summary["package"]).read_text()
    # Parsed with kfp's own proto, strictly: an unknown field fails here as it would on the server.
    spec = json_format.ParseDict(yaml.safe_load(text), pipeline_spec_pb2.PipelineSpec())
    return {"config": config, "summary": summary, "vertex": vertex, "text": text, "spec": spec,
            "vertex_text": Path(vertex["package"]).read_text()}


@pytest.fixture(autouse=True)
def isolated_kfp(monkeypatch, tmp_path):
    """No KFP settings of this machine leak in: environment, or a saved kfp context."""
    import kfp

    for name in ("KF_PIPELINES_ENDPOINT", "KF_PIPELINES_UI_ENDPOINT", "KF_PIPELINES_SA_TOKEN_PATH",
                 "KF_PIPELINES_IAP_OAUTH2_CLIENT_ID", "KF_PIPELINES_DEFAULT_EXPERIMENT_NAME",
                 "KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "kfp-context.json"))
