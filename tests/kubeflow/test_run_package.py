"""A compiled package run for real by `flowers run-package`, each step as its container command with
the executor input a KFP 2.x backend hands it: two runs on one work folder, shared by the tests.

  span-1                      → every step runs, a model is pushed
  span-2 (train labels wrong),
  --param trainer_config with
  other epochs                → span-2 ingested (not a cached span-1), the Trainer runs the new
                                epochs, the model trails the served one: nothing pushed
"""
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import yaml

from data import flowers
from pipeline import kubeflow
from pipeline.config import TRAINER_PARAM, KubeflowConfig, RunConfig, TrainConfig
from pipeline.run_package import run_package
from tests.kubeflow.conftest import IMAGE, PIPELINE_ROOT
from tests.pipeline.runs import flowers_run
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines

# Enough epochs (none stopped early: the convnet starts slowly here) for a model clearly better than
# chance at 64 px; then far fewer.
EPOCHS, OTHER_EPOCHS = 16, 2
MAX_REGRESSION = 0.02


def write_span(root: Path, span: int, shift_labels: bool = False) -> None:
    """span-N/train and span-N/eval of synthetic records; `shift_labels` labels every training
    record as the next class (image, class and label stay consistent, so the data gates pass)."""
    from data.synth import write_synth

    for split, per_class in (("train", 24), ("eval", 10)):
        folder = root / f"span-{span}" / split
        write_synth(str(folder), per_class=per_class, seed=100 * span + len(split), size=64, shards=1)
        if shift_labels and split == "train":
            (path,) = flowers.list_record_files(str(folder))
            records = list(read_records(path))
            with tf.io.TFRecordWriter(path) as writer:
                for r in records:
                    writer.write(flowers.encode_example(r["image"], (r["class"] + 1) % len(flowers.CLASS_NAMES),
                                                        *r["size"]))


def serving_files(serving: Path) -> dict:
    return {str(p.relative_to(serving)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in serving.rglob("*") if p.is_file()}


def step_outputs(summary: dict) -> dict:
    """{task: {output key: artifact record}} of a run, as run-package keeps them."""
    return json.loads((Path(summary["logs"]) / "run.json").read_text())["outputs"]


@pytest.fixture(scope="session")
def package_runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("package_runs")
    data, work = root / "data", root / "work"
    train = TrainConfig(image_size=64, epochs=EPOCHS, early_stopping_patience=EPOCHS, seed=7)
    config = RunConfig(data="gs://flowers-test/records/", span_folders=True, split_folders=True, min_accuracy=0,
                       max_regression=MAX_REGRESSION, train=train,
                       kubeflow=KubeflowConfig(image=IMAGE, pipeline_root=PIPELINE_ROOT))
    package = kubeflow.compile_pipeline(config, str(root / "flowers_pipeline.yaml"))["package"]
    vertex = kubeflow.compile_pipeline(config, str(root / "flowers_pipeline.json"), vertex=True)["package"]
    common = [package, "--work", str(work), "--param", f"data={data}", "--beam-in-process"]
    seen = {"package": package, "vertex_package": vertex, "data": data, "work": work,
            "spec": yaml.safe_load(Path(package).read_text())}

    write_span(data, 1)
    seen["first"], seen["first_summary"] = flowers_run(*common, command="run-package")
    seen["serving_after_first"] = serving_files(work / "root" / "serving")

    write_span(data, 2, shift_labels=True)
    train = {**config.trainer_config(), "epochs": OTHER_EPOCHS}
    seen["second"], seen["second_summary"] = flowers_run(
        *common, "--param", f"{TRAINER_PARAM}={json.dumps(train)}", command="run-package")
    seen["serving_after_second"] = serving_files(work / "root" / "serving")
    return seen


def test_every_step_runs_its_container_command_and_a_model_is_pushed(package_runs):
    summary, spec = package_runs["first_summary"], package_runs["spec"]
    tasks = spec["root"]["dag"]["tasks"]
    assert {c["name"]: c["state"] for c in summary["components"]} == {name: "complete" for name in tasks}
    assert summary["mode"] == "kfp" and summary["blessed"] is True and summary["pushed"] is True
    pushed = Path(summary["pushed_model_dir"])
    assert pushed.parent == package_runs["work"] / "root" / "serving"  # the compiled root, mapped here
    assert (pushed / "saved_model.pb").is_file()
    for name, task in tasks.items():  # each step ran its compiled command: TFX's entrypoint names the class
        args = spec["deploymentSpec"]["executors"][spec["components"][task["componentRef"]["name"]]["executorLabel"]]
        executor_class = args["container"]["args"][args["container"]["args"].index("--executor_class_path") + 1]
        assert f"Executor {executor_class} do:" in (Path(summary["logs"]) / f"{name}.log").read_text(), name
    printed = package_runs["first"].stdout
    assert "as a Kubeflow Pipelines 2.x backend runs it" in printed and "  Trainer done in" in printed
    assert f"Pushed to: {pushed}" in printed


def test_the_pushed_model_classifies_jpeg_bytes(package_runs, tmp_path):
    model = tf.saved_model.load(package_runs["first_summary"]["pushed_model_dir"])  # TensorFlow only
    records = [r for _, r in zip(range(4), read_records(str(package_runs["data"] / "span-1" / "eval")))]
    out = model.signatures["serving_default"](image_bytes=tf.constant([r["image"] for r in records]))
    np.testing.assert_allclose(out["probabilities"].numpy().sum(axis=1), 1.0, atol=1e-4)
    assert {label.decode() for label in out["label"].numpy()} <= set(flowers.CLASS_NAMES)


def test_the_next_run_ingests_the_new_span_not_a_cached_one(package_runs):
    first, second = package_runs["first_summary"], package_runs["second_summary"]
    assert first["spans"] == [1] and second["spans"] == [2]
    states = {c["name"]: c["state"] for c in second["components"]}
    assert states["ImportExampleGen"] == states["Baseline"] == "complete"
    # The schema step reads this run's examples (and the data's labels file): not a cached one.
    assert states["CuratedSchemaGen"] == "complete"
    examples = step_outputs(second)["ImportExampleGen"]["examples"]
    assert f"/{second['run_id']}/ImportExampleGen/" in examples["uri"]  # written by this run
    assert "span-2/train/*.tfrec*" in (Path(second["logs"]) / "ImportExampleGen.log").read_text()


def test_a_model_worse_than_the_served_one_pushes_nothing(package_runs):
    first, second = package_runs["first_summary"], package_runs["second_summary"]
    baseline = step_outputs(second)["Baseline"]["model"]
    assert baseline["metadata"]["copied_from"] == first["pushed_model_dir"]  # the served version
    assert second["baseline_accuracy"] is not None
    assert second["accuracy"] < second["baseline_accuracy"] - MAX_REGRESSION, second
    assert second["blessed"] is False and second["pushed"] is False and second["pushed_model_dir"] is None
    assert package_runs["serving_after_second"] == package_runs["serving_after_first"]  # not a byte touched
    assert "Pushed: nothing" in package_runs["second"].stdout


def test_trainer_config_param_sets_the_epochs_run(package_runs):
    def epochs_run(summary: dict) -> int:
        history = json.loads((Path(summary["tensorboard_dir"]) / "history.json").read_text())
        return len(history["loss"])

    second = package_runs["second_summary"]
    assert json.loads(second["parameters"][TRAINER_PARAM])["epochs"] == OTHER_EPOCHS
    assert epochs_run(second) == OTHER_EPOCHS
    for summary, epochs in ((package_runs["first_summary"], EPOCHS), (second, OTHER_EPOCHS)):
        trainer_log = (Path(summary["logs"]) / "Trainer.log").read_text()
        assert re.search(rf"global batch \d+, training {epochs} epochs", trainer_log), epochs
    assert os.path.basename(second["tensorboard_dir"]) == "model_run"


def test_the_vertex_package_runs_its_hook_and_the_executor_keeps_what_the_hook_resolved(package_runs, tmp_path):
    """The PipelineJob's first step as Vertex AI runs it: TFX's ExampleGen driver as the
    preCacheCheck hook picks the span, then the executor, given the hook's output, ingests it."""
    job = json.loads(Path(package_runs["vertex_package"]).read_text())
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    job["pipelineSpec"]["root"]["dag"]["tasks"] = {"ImportExampleGen": tasks["ImportExampleGen"]}
    first_step = tmp_path / "first_step.json"
    first_step.write_text(json.dumps(job))
    summary = run_package(str(first_step), str(tmp_path / "work"), {"data": str(package_runs["data"])},
                          vertex=True, beam_in_process=True, report=lambda line: None)
    assert summary["mode"] == "vertex" and summary["components"][0]["state"] == "complete"
    assert summary["spans"] == [2]
    log = (Path(summary["logs"]) / "ImportExampleGen.log").read_text()
    assert "Calculated span: 2" in log  # the hook (TFX's driver) ran
    assert "No driver ran before this step" not in log  # and the executor took its result
