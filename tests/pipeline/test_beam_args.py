"""--beam-arg reaches every Beam-powered step: in a local run's Beam options, and in each Beam
step's command of the compiled package; without it the local choice (in-process for small data,
a process per core above) and the compiled DirectRunner per step stay."""
import dataclasses

import yaml

from data import flowers
from pipeline import cli, kubeflow, local
from pipeline.config import KubeflowConfig
from pipeline.pipeline import create_pipeline
from tests.faults import write_records

DATAFLOW = ["--runner=DataflowRunner", "--project=p", "--region=europe-west4", "--temp_location=gs://b/tmp",
            "--sdk_container_image=registry.example/flowers-tfx:test"]
BEAM_STEPS = ("ImportExampleGen", "StatisticsGen", "RecordCheck", "Transform", "Evaluator")


def _config(tmp_path, *flags):
    write_records(tmp_path / "data" / "a.tfrec", [flowers.encode_example(b"jpeg", 0, 8, 8)])
    argv = ["run", "--data", str(tmp_path / "data"), *(f"--beam-arg={arg}" for arg in flags)]
    return cli.config_from_args(cli.build_parser().parse_args(argv))


def test_a_local_run_passes_them_to_every_beam_step(tmp_path):
    config = _config(tmp_path, *DATAFLOW)
    assert config.beam_args == tuple(DATAFLOW)
    assert local.run_beam_args(config, data_size=10 << 30) == DATAFLOW  # whatever the size
    pipeline = create_pipeline(config, str(tmp_path / "root"), local.run_beam_args(config, 0))
    steps = {c.id: c for c in pipeline.components}
    for step in BEAM_STEPS:
        assert steps[step].executor_spec.beam_pipeline_args == DATAFLOW, step


def test_without_them_the_local_choice_stays(tmp_path):
    config = dataclasses.replace(_config(tmp_path), beam_workers=2)
    assert local.run_beam_args(config, data_size=1 << 20) == ["--direct_running_mode=in_memory",
                                                              local.NO_WORKER_PACKAGE]
    assert local.run_beam_args(config, data_size=2 << 30) == ["--direct_running_mode=multi_processing",
                                                              "--direct_num_workers=2", local.NO_WORKER_PACKAGE]


def test_the_local_choice_spares_tfx_packaging_itself_and_still_runs(tmp_path):
    """TFX's Beam executors build an sdist of TFX for remote workers unless the args name the workers'
    software; the DirectRunner's workers never install it. With the local args a Beam executor (TFX's base)
    adds no --extra_package (so built none), and Beam runs with them."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to
    from tfx.dsl.components.base import base_beam_executor

    from components import example_gen

    executors = [example_gen.Executor(base_beam_executor.BaseBeamExecutor.Context(
        beam_pipeline_args=args, tmp_dir=str(tmp_path))) for args in (local.beam_args(1), local.beam_args(2, 2 << 30))]
    for executor in executors:
        assert not any(arg.startswith("--extra_package") for arg in executor._beam_pipeline_args)
    with executors[0]._make_beam_pipeline() as pipeline:  # in-process, as a small local run
        assert_that(pipeline | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * 2), equal_to([2, 4, 6]))


def test_they_land_in_each_beam_step_command_of_the_compiled_package(tmp_path):
    config = dataclasses.replace(_config(tmp_path, *DATAFLOW), data="gs://bucket/records/",
                                 kubeflow=KubeflowConfig(image="registry.example/flowers-tfx:test",
                                                         pipeline_root="gs://b/root"))
    package = kubeflow.compile_pipeline(config, str(tmp_path / "flowers.yaml"))["package"]
    spec = yaml.safe_load(open(package).read().split("\n", 1)[1])
    for step in BEAM_STEPS:
        executor = spec["components"][spec["root"]["dag"]["tasks"][step]["componentRef"]["name"]]["executorLabel"]
        args = spec["deploymentSpec"]["executors"][executor]["container"]["args"]
        assert args[-len(DATAFLOW):] == DATAFLOW, (step, args)
        assert not any(arg.startswith("--direct_") for arg in args), (step, args)
