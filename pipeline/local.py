"""Runs the pipeline here: LocalDagRunner, Beam in-process (or on every core for large data), MLMD in
SQLite under the output root."""
from __future__ import annotations

import os
import time

from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.metadata import sqlite_metadata_connection_config

from components import atomic_pusher
from data import flowers, records
from pipeline import errors, retrain as retrain_check
from pipeline.config import RunConfig
from pipeline.console import Reporter, logging_to
from pipeline.lock import output_lock
from pipeline.pipeline import create_pipeline, input_config
from pipeline.summary import FAILURE, latest_run, read_summary


def paths(config: RunConfig) -> dict[str, str]:
    output = os.path.abspath(config.output)
    return {
        "output": output,
        "pipeline_root": os.path.join(output, "pipeline"),
        "metadata": os.path.join(output, "metadata.sqlite"),
        "logs": os.path.join(output, "logs"),
    }


# Beam runs in-process up to this much input, on a worker process per core above. On the flower
# photos (benchmarks/pipeline.py --beam compares the two on 2 cores), in-process is faster for
# every Beam component and the run's peak memory is lower: starting workers, and moving every
# record across process boundaries, cost more than the parallel work saves. Where workers start
# to pay off is not measured; 1 GiB is a guess.
IN_PROCESS_MAX_BYTES = 1 << 30


# Unless the Beam args name the workers' software, every TFX Beam step first packages the whole TFX
# install for remote workers: a 52 MB copy under /tmp, left there, and `setup.py sdist`, 7 s a step
# on 2 busy cores (2026-12-02, tfx.utils.dependency_utils.build_ephemeral_package), five steps a run.
# The DirectRunner's workers are this Python or subprocesses of it: they never install that package
# and read no container image, so naming one skips the build and changes nothing else.
NO_WORKER_PACKAGE = "--sdk_container_image=unused-by-the-direct-runner"


def beam_args(workers: int, data_bytes: int = 0) -> list[str]:
    """The DirectRunner's arguments: in-process for small data (or one worker), else `workers`
    processes. A run's --beam-arg flags (RunConfig.beam_args) replace them."""
    if workers <= 1 or data_bytes <= IN_PROCESS_MAX_BYTES:
        return ["--direct_running_mode=in_memory", NO_WORKER_PACKAGE]
    return ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}", NO_WORKER_PACKAGE]


def run_beam_args(config: RunConfig, data_size: int) -> list[str]:
    """The Beam options of every Beam step of a local run: the --beam-arg flags, else `beam_args`."""
    return list(config.beam_args) or beam_args(config.beam_workers, data_size)


def files_bytes(files: list[str]) -> int:
    import tensorflow as tf

    return sum(tf.io.gfile.stat(f).length for f in files)


def data_bytes(path: str) -> int:
    """Total size of the record files that `--data` names."""
    return files_bytes(flowers.check_location(path))


def ingested_files(config: RunConfig) -> list[str]:
    """The record files ImportExampleGen will read: with span folders, the newest span's only, as
    TFX's own span resolution picks it."""
    import tensorflow as tf
    from tfx.components.example_gen import utils

    base, _ = flowers.split_location(config.data)
    splits = list(input_config(config).splits)
    utils.calculate_splits_fingerprint_span_and_version(base, splits)  # puts the span number in the patterns
    return sorted({f for split in splits for f in tf.io.gfile.glob(os.path.join(base, split.pattern))})


def check_records(config: RunConfig, report: Reporter) -> int:
    """Every record of every file the run will read, checked whole (data.records) before any step
    runs: in threads here, or as a Beam job on the runner --beam-arg chose (the workers that will
    read the data read it). Returns the files' total size.

    Not Beam's DirectRunner: on the 12 files (77.6 MB) of ../shared/flowers, threads took 0.5 s
    and a two-process DirectRunner job 62 s (2 busy cores, 2026-12-02, local.check_records).
    """
    files = ingested_files(config)
    size = files_bytes(files)
    started = time.time()
    if config.beam_args:
        records.check_files_with_beam(files, config.beam_args)
    else:
        records.check_files(files)
    report(f"  data: {len(files)} record files, {size / 1e6:.1f} MB, every record whole "
           f"(framing and checksums, {time.time() - started:.1f}s)")
    return size


def _prepare(config: RunConfig, report: Reporter) -> None:
    """What a run holding the lock does first: the data's layout, and any staging folder an
    interrupted push left in the serving folder (no other run can be pushing now)."""
    flowers.check_location(config.data, warn=lambda message: report(f"  data warning: {message}"))
    for folder in atomic_pusher.remove_stale_staging(os.path.abspath(config.serving_root)):
        report(f"  removed {folder}, left by a push that was interrupted")


def run(config: RunConfig, report: Reporter = print) -> dict:
    """Runs the whole pipeline and returns its summary (see pipeline.summary.read_summary). The
    output lock comes first: a second run on the same output learns at once that it must wait."""
    with output_lock(paths(config)["output"]):
        report(f"flowers run: model {config.train.model}, data {config.data}")
        _prepare(config, report)
        return _run_locked(config, report, check_records(config, report))


def retrain(config: RunConfig, report: Reporter = print) -> dict:
    """`run`, only when --data holds a span no model has been evaluated on (pipeline.retrain); else
    a summary that says why not. The lock covers the check too: two retrains never both train."""
    where = paths(config)
    with output_lock(where["output"]):
        _prepare(config, report)
        check = retrain_check.check_new_data(config, where["metadata"])
        report(f"flowers retrain: {check['reason']}")
        if not check["new_data"]:
            return {**check, "retrained": False, "pushed": False}
        report(f"flowers run: model {config.train.model}, data {config.data}")
        summary = _run_locked(config, report, check_records(config, report))
    return {**summary, **check, "retrained": True, "decision": retrain_check.decision(summary, config)}


def _run_locked(config: RunConfig, report: Reporter, data_size: int) -> dict:
    where = paths(config)
    os.makedirs(where["logs"], exist_ok=True)
    log_file = os.path.join(where["logs"], time.strftime("run-%Y%m%d-%H%M%S.log"))
    report(f"  output {where['output']} (full log: {log_file})")
    pipeline = create_pipeline(
        config, where["pipeline_root"], run_beam_args(config, data_size),
        sqlite_metadata_connection_config(where["metadata"]))
    started = time.time()
    with logging_to(log_file, report):
        try:
            LocalDagRunner().run(pipeline)
        except Exception as error:
            _record_failure(where["metadata"], config.pipeline_name, errors.describe(error))
            raise
    summary = read_summary(where["metadata"], config.pipeline_name)
    summary.update(pipeline_root=where["pipeline_root"], serving_dir=os.path.abspath(config.serving_root),
                   log_file=log_file, seconds=round(time.time() - started, 1),
                   spans=retrain_check.run_spans(where["metadata"], summary["run_id"]))
    return summary


def _record_failure(metadata_path: str, pipeline_name: str, message: str) -> None:
    """Keeps why the run failed on its failed execution in MLMD, where `flowers report` reads it."""
    import ml_metadata as mlmd
    from ml_metadata.proto import metadata_store_pb2

    if not os.path.exists(metadata_path):
        return
    _, executions = latest_run(metadata_path, pipeline_name)
    failed = [e for _, e, _ in executions if e.last_known_state == metadata_store_pb2.Execution.FAILED]
    for execution in failed:
        execution.custom_properties[FAILURE].string_value = message
    if failed:
        mlmd.MetadataStore(sqlite_metadata_connection_config(metadata_path)).put_executions(failed)
