"""Fault injection for tests: damaged record files, bad records, a process killed at a chosen call.

Everything here breaks real files or a real run the way the world does (a copy cut short, a flipped
bit, a photo of the wrong size, a SIGKILL); nothing stands in for the code under test.
"""
from __future__ import annotations

import io
import signal
import subprocess
import sys
from pathlib import Path

import tensorflow as tf

from data import flowers
from tests.pipeline.runs import user_env


def write_records(path: Path, records: list[bytes], gzip: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path), options="GZIP" if gzip else None) as writer:
        for record in records:
            writer.write(record)
    return path


def truncate(path: Path, keep: int) -> None:
    """Cuts the file to its first `keep` bytes (a copy or download that stopped early)."""
    with open(path, "r+b") as f:
        f.truncate(keep)


def flip_byte(path: Path, offset: int) -> None:
    """Inverts the bits of one byte (a disk or transfer error)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def record_offsets(path: Path) -> list[int]:
    """The byte offset of each record in an uncompressed TFRecord file."""
    offsets, offset = [], 0
    for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        offsets.append(offset)
        offset += 16 + len(record)
    return offsets


def edited(serialized: bytes, edit) -> bytes:
    """A record with `edit(features)` applied to its feature map."""
    example = tf.train.Example.FromString(serialized)
    edit(example.features.feature)
    return example.SerializeToString()


def relabelled(serialized: bytes, label: bytes) -> bytes:
    """The record with its `label` changed and its `class` kept: the two disagree."""
    def edit(features):
        features[flowers.LABEL_KEY].bytes_list.value[:] = [label]
    return edited(serialized, edit)


def jpeg(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, "JPEG")
    return out.getvalue()


def huge_jpeg(width: int = 40000, height: int = 40000) -> bytes:
    """A small JPEG whose frame header claims width×height pixels: what a decoder would allocate
    for (40000×40000: 4.8 GB) before it finds the data missing. Only a header check is safe on it."""
    data = bytearray(jpeg())
    sof = next(i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


# Runs `flowers` with one function replaced by a SIGKILL of the whole process: the kill lands at
# that exact point, every time, as a machine losing power there would.
_KILL_AT = """
import components  # TF_USE_LEGACY_KERAS first, as every entry point does
import importlib, os, signal, sys
module_name, attribute = sys.argv.pop(1).rsplit(".", 1)
module = importlib.import_module(module_name)
owner_name, _, method = attribute.partition(".")
owner = getattr(module, owner_name) if method else module
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
setattr(owner, method or owner_name, die)
from pipeline import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def run_killed_at(target: str, *argv: str) -> subprocess.CompletedProcess:
    """`flowers ARGV` in a fresh process that dies by SIGKILL when `target` (module.function or
    module.Class.method) is first called."""
    proc = subprocess.run([sys.executable, "-c", _KILL_AT, target, *argv], capture_output=True, text=True,
                          env=user_env(), timeout=1200)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc
