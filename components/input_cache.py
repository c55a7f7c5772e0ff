"""Where the Trainer keeps each split's decoded pixels between epochs: memory, a local file, or nowhere.

Decoded, a photo is size² × 3 bytes (108 KiB at 192 px): the 2,932 flower photos fit in memory
anywhere, a collection of 100,000 needs 11 GB. `choose` ("auto") keeps a split in memory when it
fits a budget (half the memory available when the Trainer starts, within a container's limit), else
in a tf.data cache file in a temporary local folder (TMPDIR decides where; removed with the dataset)
when the disk has room, else decodes it again every epoch ("none"). `--cache` forces one choice.
The splits' sizes are estimated from their bytes on disk and a sample of their first records, so
choosing costs the same for any data size.

After the first epoch of a "disk" cache TensorFlow 2.16 logs "The calling iterator did not fully
read the dataset being cached": a false alarm (tensorflow/tensorflow#60174, #75002; it checks for a
shard file that completing the cache has just merged away). The cache is complete, and later epochs
read it.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import weakref

AUTO = "auto"
MODES = (AUTO, "memory", "disk", "none")
MEMORY_SHARE = 0.5  # of the available memory: the rest is the model's, TensorFlow's and the buffers'
DISK_SHARE = 0.9  # of the free space of the temporary folder
SAMPLE_RECORDS = 256  # read to estimate a split's size: 6 MB of the flower photos
SAMPLE_FILES = 16  # from the first files only: opening a file on cloud storage costs
log = logging.getLogger(__name__)


def pixel_bytes(image_size: int) -> int:
    """One decoded image in the cache: uint8 [size, size, 3]."""
    return image_size * image_size * 3


def estimate_records(patterns: list[str]) -> int:
    """Records in the files `patterns` match: their bytes on disk ÷ the mean on-disk bytes of a
    sample (the first records of the first SAMPLE_FILES files, GZIP-compressed as the files are);
    exact when the sample holds every record."""
    import zlib

    import tensorflow as tf

    from data import records

    files = sorted(f for pattern in patterns for f in tf.io.gfile.glob(pattern))
    if not files:
        return 0
    compression = records.compression(files[0])
    sampled = files[:SAMPLE_FILES]
    per_file = SAMPLE_RECORDS // len(sampled)
    sample, complete = [], len(files) == len(sampled)
    for path in sampled:
        records = list(tf.data.TFRecordDataset(path, compression_type=compression).take(per_file).as_numpy_iterator())
        sample += records
        complete = complete and len(records) < per_file
    if complete:
        return len(sample)
    framing = 16  # a TFRecord's length and two checksums
    payload = len(zlib.compress(b"".join(sample))) if compression else sum(map(len, sample))
    total = sum(tf.io.gfile.stat(f).length for f in files)
    return round(total * len(sample) / max(payload + framing * len(sample), 1))


def available_memory() -> int:
    """Bytes this process can still take: the kernel's MemAvailable, within the container's memory
    limit (cgroup v2 or v1), whichever is lower."""
    candidates = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as limit, open(usage_file) as usage:
                candidates.append(int(limit.read()) - int(usage.read()))
        except (OSError, ValueError):  # absent, or "max": no limit
            pass
    if not candidates:  # not Linux: half the machine's memory
        candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    return max(0, min(candidates))


def choose(mode: str, splits: dict[str, list[str]], image_size: int, memory_budget: int | None = None,
           disk_budget: int | None = None) -> dict[str, str]:
    """{split: "memory" | "disk" | "none"} for `splits` ({name: file patterns}): `mode` for every
    split, or with "auto" each split in turn where it fits (budgets in bytes; None: MEMORY_SHARE of
    the available memory, DISK_SHARE of the temporary folder's free space)."""
    if mode not in MODES:
        raise ValueError(f"cache {mode!r}: expected one of {', '.join(MODES)}")
    if mode != AUTO:
        for name in splits:
            log.info("%s split %s (--cache %s)", name, _where(mode), mode)
        return {name: mode for name in splits}
    memory_left = MEMORY_SHARE * available_memory() if memory_budget is None else memory_budget
    disk_left = DISK_SHARE * shutil.disk_usage(tempfile.gettempdir()).free if disk_budget is None else disk_budget
    choice = {}
    for name, patterns in splits.items():
        records = estimate_records(patterns)
        need = records * pixel_bytes(image_size)
        log.info("%s split: about %d images, %.0f MB decoded; cache budget %.0f MB of memory, %.0f MB of disk",
                 name, records, need / 1e6, memory_left / 1e6, disk_left / 1e6)
        if need <= memory_left:
            choice[name], memory_left = "memory", memory_left - need
        elif need <= disk_left:
            choice[name], disk_left = "disk", disk_left - need
        else:
            choice[name] = "none"
        log.info("%s split %s", name, _where(choice[name]))
    return choice


def _where(mode: str) -> str:
    return {"memory": "cached in memory", "disk": f"cached in a local file under {tempfile.gettempdir()}",
            "none": "not cached: decoded every epoch"}[mode]


def cached(ds, mode: str):
    """`ds` (a tf.data.Dataset) cached as `mode` says. A "disk" cache's temporary folder is deleted
    when the returned dataset (which every dataset built on it references) is garbage-collected, or
    at the latest when the process exits."""
    if mode == "memory":
        return ds.cache()
    if mode == "none":
        return ds
    if mode != "disk":
        raise ValueError(f"cache {mode!r}: expected memory, disk or none")
    folder = tempfile.mkdtemp(prefix="flowers-cache-")
    ds = ds.cache(os.path.join(folder, "pixels"))
    weakref.finalize(ds, shutil.rmtree, folder, ignore_errors=True)
    return ds
