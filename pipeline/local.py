"""Runs the pipeline here: LocalDagRunner, Beam in-process (or on every core for large data), MLMD in
SQLite under the output root."""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import time
from typing import Callable, Iterator

from absl import logging as absl_logging
from tfx import v1 as tfx

from data import flowers
from pipeline import retrain as retrain_check
from pipeline.config import RunConfig
from pipeline.pipeline import create_pipeline
from pipeline.summary import read_summary

Reporter = Callable[[str], None]


class RunInProgressError(RuntimeError):
    """Another run holds the output root."""


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


@contextlib.contextmanager
def output_lock(output: str) -> Iterator[None]:
    """One run per output root: two would interleave writes to the same MLMD and serving dir."""
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, ".lock"), "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise RunInProgressError(f"another flowers run ({holder}) is using {output}; wait for it "
                                     "to finish or pass a different --output") from None
        lock.truncate(0)
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)


# The project's own loggers: their INFO lines (Trainer epochs, data warnings) reach the console.
_OUR_LOGGERS = {"flowers", "components", "pipeline", "data", "models"}


class _Progress(logging.Handler):
    """Turns TFX's and the Trainer's log lines into one short line per step for the console."""

    _PATTERNS = [
        (re.compile(r"Component (\S+) is running"), "running"),
        (re.compile(r"Component (\S+) is finished"), "finished"),
    ]

    def __init__(self, report: Reporter):
        super().__init__(logging.INFO)
        self.report = report
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name.split(".")[0] in _OUR_LOGGERS:
            if record.levelno >= logging.INFO:
                self.report(f"    {message}" if record.levelno == logging.INFO else f"    {record.levelname}: {message}")
            return
        for pattern, state in self._PATTERNS:
            match = pattern.search(message)
            if not match:
                continue
            name = match.group(1)
            if state == "running":
                self.started[name] = time.time()
                self.report(f"  {name} ...")
            else:
                self.report(f"  {name} done in {time.time() - self.started.get(name, time.time()):.1f}s")


@contextlib.contextmanager
def _logging_to(log_file: str, report: Reporter) -> Iterator[None]:
    """Full INFO log to a file; only progress lines and the project's warnings to the console.

    Handlers installed earlier (TFX and Beam call basicConfig) are set aside for the run, so the
    console is not flooded with executor protos.
    """
    root = logging.getLogger()
    file_handler = logging.FileHandler(log_file)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    tf_logger = logging.getLogger("tensorflow")  # has a console handler of its own
    saved = (root.handlers[:], root.level, absl_logging.get_verbosity(), tf_logger.handlers[:])
    root.handlers[:] = [file_handler, _Progress(report)]
    root.setLevel(logging.INFO)
    # Through absl's own flag, not setLevel: TensorFlow's SavedModel export saves and restores
    # absl's verbosity, and a bare setLevel would be lost there, silencing the rest of the run.
    absl_logging.set_verbosity(absl_logging.INFO)
    tf_logger.handlers[:] = []
    try:
        yield
    finally:
        root.handlers[:], level, absl_level, tf_logger.handlers[:] = saved
        root.setLevel(level)
        absl_logging.set_verbosity(absl_level)
        file_handler.close()


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
    with _logging_to(log_file, report):
        tfx.orchestration.LocalDagRunner().run(pipeline)
    summary = read_summary(where["metadata"], config.pipeline_name)
    summary.update(pipeline_root=where["pipeline_root"], serving_dir=os.path.abspath(config.serving_root),
                   log_file=log_file, seconds=round(time.time() - started, 1),
                   spans=retrain_check.run_spans(where["metadata"], summary["run_id"]))
    return summary
