"""What the benchmarks share: the hardware line, where the data is, a slice of it, the plain tf.data
reader of the source material, epoch timing and a pipeline run's artifacts read back from MLMD.

Each script imports this module before anything that loads TensorFlow.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import components  # noqa: E402,F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

import bisect  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import tensorflow as tf  # noqa: E402

from data import flowers, records  # noqa: E402
from data.fetch import shared_dir  # noqa: E402

SHARED = shared_dir()  # ../shared beside the checkout, or $FLOWERS_SHARED
DATA = SHARED / "flowers"  # the 2,932 real photos, 192x192 JPEG, public flowers layout
FLOWERS = str(Path(sys.executable).with_name("flowers"))  # the installed `flowers` command
AUTOTUNE = tf.data.AUTOTUNE
# What a plain script parses from a raw record: the JPEG and the class index.
RAW_SPEC = {key: spec for key, spec in flowers.feature_spec().items() if key in (flowers.IMAGE_KEY, flowers.CLASS_KEY)}


def hardware() -> str:
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    return (f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()})"
            + (f", GPUs {gpus}" if gpus else ""))


def copy_records(files: list[str], out_dir: str, shards: int, limit: int = 0,
                 compression: str = "") -> tuple[list[str], int]:
    """The records of `files` (the first `limit`, or all) round-robin into `shards` new files in
    `out_dir`, GZIP-compressed with compression="GZIP"; returns (paths, records)."""
    suffix = ".gz" if compression == records.GZIP else ""
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, f"records-{i:05d}-of-{shards:05d}.tfrec{suffix}") for i in range(shards)]
    writers = [tf.io.TFRecordWriter(path, options=compression or None) for path in paths]
    source = tf.data.TFRecordDataset(files, compression_type=records.compression(files[0]))
    count = 0
    for count, record in enumerate((source.take(limit) if limit else source).as_numpy_iterator(), 1):
        writers[count % shards].write(record)
    for writer in writers:
        writer.close()
    if count < limit:
        raise ValueError(f"--limit {limit}: {files} hold only {count} records")
    return paths, count


def write_slice(data: str, limit: int, out_dir: str) -> str:
    """The first `limit` records of `data`, written round-robin into as many files as `data` has
    (outside the repo); `data` itself when `limit` is 0."""
    if not limit:
        return data
    files = flowers.list_record_files(data)
    copy_records(files, out_dir, len(files), limit)
    return out_dir


def split_buckets(split: str) -> tuple[int, int, int]:
    """(first bucket, bucket after the last, all buckets) of `split` in the pipeline's hash split."""
    from pipeline.config import RunConfig

    config = RunConfig()
    counts = {flowers.TRAIN_SPLIT: config.train_buckets, flowers.VALIDATION_SPLIT: config.validation_buckets,
              flowers.EVAL_SPLIT: config.eval_buckets}
    names = list(counts)
    first = sum(counts[name] for name in names[:names.index(split)])
    return first, first + counts[split], sum(counts.values())


def plain_dataset(files: list[str], image_size: int, batch_size: int, training: bool = False,
                  cache: bool = True, split: str | None = None) -> tf.data.Dataset:
    """The source material's reader, as a hand-written Keras script has it: TFRecordDataset with
    parallel reads → parse → decode_jpeg → resize → cache → (train: shuffle, flip, saturation)
    → batch → prefetch. Batches of (float32 pixels 0..255, int64 class): what every model takes.

    `split` ("train", "validation" or "eval") keeps only that split's records of a hash split of
    `files` in the pipeline's proportions (pipeline.config.RunConfig's buckets, 7:1:2).
    """
    def read(record):
        example = tf.io.parse_single_example(record, RAW_SPEC)
        image = tf.io.decode_jpeg(example[flowers.IMAGE_KEY], channels=3)
        return tf.image.resize(image, [image_size, image_size]), example[flowers.CLASS_KEY]

    def augment(image, label):
        image = tf.image.random_flip_left_right(image)
        return tf.image.random_saturation(image, 0.0, 2.0), label

    ds = tf.data.TFRecordDataset(files, compression_type=records.compression(files[0]), num_parallel_reads=AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = False
    ds = ds.with_options(options)
    if split is not None:
        first, end, total = split_buckets(split)

        def in_split(record):
            bucket = tf.strings.to_hash_bucket_fast(record, total)
            return tf.logical_and(bucket >= first, bucket < end)

        ds = ds.filter(in_split)
    ds = ds.map(read, num_parallel_calls=AUTOTUNE)
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(2048).map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def plain_keras_setup(stock: bool) -> None:
    """Unless `stock`, spare the plain side the AutoGraph conversion of tf_keras' own functions that
    the Trainer skips, so that the comparison measures the pipeline, not that fix."""
    if not stock:
        from components.phases import skip_autograph_of_tf_keras

        skip_autograph_of_tf_keras()


def count_records(patterns: list[str]) -> int:
    files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type=records.compression(files[0])))


def timed_pass(ds: tf.data.Dataset) -> tuple[int, float, float]:
    """(images, wall seconds, CPU seconds) of one pass over a dataset of (image batch, label batch).
    CPU seconds are this process's, every thread's: on shared cores they measure the work alone,
    the wall seconds the work and the waiting for a core."""
    images, started, cpu = 0, time.perf_counter(), time.process_time()
    for batch, _ in ds:
        images += int(batch.shape[0])
    return images, time.perf_counter() - started, time.process_time() - cpu


class CpuClock:
    """This process's CPU seconds (every thread) sampled against wall time by a background thread,
    to tell the CPU seconds spent between two wall-clock instants (e.g. epoch ends)."""

    def __init__(self, interval: float = 0.2):
        self.samples = [(time.time(), time.process_time())]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)
        self._thread.start()

    def _sample(self, interval: float) -> None:
        while not self._stopped.wait(interval):
            self.samples.append((time.time(), time.process_time()))

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self.samples.append((time.time(), time.process_time()))

    def at(self, wall: float) -> float:
        """CPU seconds at wall time `wall`, interpolated between the samples around it."""
        i = min(max(bisect.bisect_left([w for w, _ in self.samples], wall), 1), len(self.samples) - 1)
        (w0, c0), (w1, c1) = self.samples[i - 1], self.samples[i]
        return c0 + (c1 - c0) * min(max((wall - w0) / max(w1 - w0, 1e-9), 0.0), 1.0)


class EpochEnds(tf.keras.callbacks.Callback):
    """time.time() at the end of every epoch (after its validation pass), as TensorBoard logs it."""

    def __init__(self):
        super().__init__()
        self.ends: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.time())


def tensorboard_epoch_ends(model_run_dir: str) -> list[float]:
    """Wall times of the Trainer's per-epoch TensorBoard summaries (written at each epoch's end)."""
    ends: dict[int, float] = {}
    for path in glob.glob(os.path.join(model_run_dir, "train", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            if any(v.tag == "epoch_loss" for v in event.summary.value):
                ends[event.step] = event.wall_time
    return [ends[step] for step in sorted(ends)]


def epoch_figures(started: float, ends: list[float], train_images: int, cpu: CpuClock | None = None) -> dict:
    """Epoch 1 (from `started`: datasets, model, tracing, uncached read) and the later epochs
    (cached, traced) as seconds and train images/s; with `cpu`, also per CPU second."""
    first = ends[0] - started
    later = [b - a for a, b in zip(ends, ends[1:])]
    steady = sum(later) / len(later) if later else float("nan")
    figures = {"epochs": len(ends), "train_images": train_images, "first_s": first, "steady_s": steady,
               "epoch_s": [first, *later],
               "first_ips": train_images / first, "steady_ips": train_images / steady if later else float("nan")}
    if cpu:
        first_cpu = cpu.at(ends[0]) - cpu.at(started)
        steady_cpu = (cpu.at(ends[-1]) - cpu.at(ends[0])) / len(later) if later else float("nan")
        figures.update(first_cpu_s=first_cpu, steady_cpu_s=steady_cpu, first_ips_cpu=train_images / first_cpu,
                       steady_ips_cpu=train_images / steady_cpu if later else float("nan"))
    return figures


def component_artifacts(output: str, component: str) -> dict:
    """{output key: MLMD artifact} of `component` in the latest pipeline run under `output`."""
    from pipeline.config import RunConfig
    from pipeline.summary import latest_run

    _, executions = latest_run(os.path.join(output, "metadata.sqlite"), RunConfig().pipeline_name)
    for name, _, outputs in reversed(executions):
        if name == component:
            return outputs
    raise LookupError(f"no {component} recorded under {output}")


def component_outputs(output: str, component: str) -> dict[str, str]:
    """{output key: URI} of `component` in the latest pipeline run under `output`."""
    return {key: artifact.uri for key, artifact in component_artifacts(output, component).items()}


def example_files(output: str) -> dict[str, str]:
    """{split: file pattern} of ImportExampleGen's records in the latest pipeline run under `output`."""
    from pipeline.summary import split_uris

    examples = component_artifacts(output, "ImportExampleGen")["examples"]
    return {split: os.path.join(folder, "*") for split, folder in split_uris(examples).items()}


def directory_bytes(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table, numbers as given (format them before)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def run_measured(command: list[str], log_path: str) -> dict:
    """Runs `command` with stdout and stderr to `log_path`; returns its exit code, wall seconds,
    the peak of the summed PSS of its process tree (sampled every 0.25 s: Beam workers included) and
    the largest single process's max RSS (wait4's rusage, which covers reaped descendants)."""
    import psutil

    with open(log_path, "w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        peak_pss = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                tree = [psutil.Process(proc.pid)]
                tree += tree[0].children(recursive=True)
            except psutil.NoSuchProcess:
                tree = []
            total = 0
            for p in tree:
                try:
                    total += p.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            peak_pss = max(peak_pss, total)
            time.sleep(0.25)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"returncode": proc.returncode, "seconds": seconds, "peak_pss_mb": peak_pss / 2**20,
            "max_rss_mb": usage.ru_maxrss / 1024}


def last_json_line(log_path: str) -> dict:
    """The JSON object a command printed as its last stdout line (`flowers run --json`, the children)."""
    lines = [line for line in Path(log_path).read_text().splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"no JSON result in {log_path}; its end:\n{Path(log_path).read_text()[-3000:]}")
    return json.loads(lines[-1])


def checked(result: dict, log_path: str) -> dict:
    if result["returncode"] != 0:
        raise RuntimeError(f"exit code {result['returncode']}; end of {log_path}:\n"
                           f"{Path(log_path).read_text()[-3000:]}")
    return result
