"""Runs the pipeline here: LocalDagRunner, Beam in-process (or on every core for large data), MLMD in
SQLite under the output root."""
from __future__ import annotations

import os
import time

from tfx import v1 as tfx

from data import flowers
from pipeline import retrain as retrain_check
from pipeline.config import RunConfig
from pipeline.console import Reporter, logging_to
from pipeline.lock import output_lock
from pipeline.pipeline import create_pipeline
from pipeline.summary import read_summary


def paths(config: RunConfig) -> dict[str, str]:
    output = os.path.abspath(config.output)
    return {
        "output": output,
        "pipeline_root": os.path.join(output, "pipeline"),
        "metadata": os.path.join(output, "metadata.sqlite"),
        "logs": os.path.join(output, "logs"),
    }


# Beam runs in-process up to this much input, on a worker process per core above. Measured with
# benchmarks/pipeline.py --beam on 2 cores, 1,000 and 2,932 photos (25 and 75 MB): in-process halves
# the time of every Beam component (ImportExampleGen, StatisticsGen, Transform, Evaluator; 40 s
# against 77 s for all components on 1,000 photos) and the peak memory of the run (1.2 against
# 1.8-2.6 GB): starting workers, and moving every record across process boundaries, cost more than
# the parallel work saves. Where workers start to pay off was not measured; 1 GiB is a guess.
IN_PROCESS_MAX_BYTES = 1 << 30


def beam_args(workers: int, data_bytes: int = 0) -> list[str]:
    """The DirectRunner's arguments: in-process for small data (or one worker), else `workers` processes."""
    if workers <= 1 or data_bytes <= IN_PROCESS_MAX_BYTES:
        return ["--direct_running_mode=in_memory"]
    return ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]


def data_bytes(path: str) -> int:
    """Total size of the record files that `--data` names."""
    import tensorflow as tf

    return sum(tf.io.gfile.stat(f).length for f in flowers.check_location(path))


def run(config: RunConfig, report: Reporter = print) -> dict:
    """Runs the whole pipeline and returns its summary (see pipeline.summary.read_summary)."""
    flowers.check_location(config.data)
    with output_lock(paths(config)["output"]):
        return _run_locked(config, report)


def retrain(config: RunConfig, report: Reporter = print) -> dict:
    """`run`, only when --data holds a span no model has been evaluated on (pipeline.retrain); else
    a summary that says why not. The lock covers the check too: two retrains never both train."""
    where = paths(config)
    flowers.check_location(config.data)
    with output_lock(where["output"]):
        check = retrain_check.check_new_data(config, where["metadata"])
        report(f"flowers retrain: {check['reason']}")
        if not check["new_data"]:
            return {**check, "retrained": False, "pushed": False}
        summary = _run_locked(config, report)
    return {**summary, **check, "retrained": True, "decision": retrain_check.decision(summary, config)}


def _run_locked(config: RunConfig, report: Reporter) -> dict:
    where = paths(config)
    os.makedirs(where["logs"], exist_ok=True)
    log_file = os.path.join(where["logs"], time.strftime("run-%Y%m%d-%H%M%S.log"))
    report(f"flowers run: model {config.train.model}, data {config.data}")
    report(f"  output {where['output']} (full log: {log_file})")
    pipeline = create_pipeline(
        config, where["pipeline_root"], beam_args(config.beam_workers, data_bytes(config.data)),
        tfx.orchestration.metadata.sqlite_metadata_connection_config(where["metadata"]))
    started = time.time()
    with logging_to(log_file, report):
        tfx.orchestration.LocalDagRunner().run(pipeline)
    summary = read_summary(where["metadata"], config.pipeline_name)
    summary.update(pipeline_root=where["pipeline_root"], serving_dir=os.path.abspath(config.serving_root),
                   log_file=log_file, seconds=round(time.time() - started, 1),
                   spans=retrain_check.run_spans(where["metadata"], summary["run_id"]))
    return summary
