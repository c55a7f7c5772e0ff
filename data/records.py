"""TFRecord files checked whole, before a run reads them: framing and checksums of every record.

A TFRecord file is a sequence of records, each framed as
    uint64 length | uint32 masked CRC-32C of the length | data | uint32 masked CRC-32C of the data
(little-endian). A file cut short, or a flipped byte anywhere, shows as a frame that ends early or
a checksum that does not match; each is reported with the file, the record's byte offset and
"truncated" or "corrupt". GZIP-compressed files (ImportExampleGen and Beam read them when their
name ends in .gz) are recognised by their first bytes and checked through the decompressed stream.

The check reads every byte once: files in parallel threads on this machine, or as a Beam job (one
element per file) on a distributed runner, whose workers read the data where it lives.
"""
from __future__ import annotations

import gzip
import json
import os
import struct
import tempfile
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import BinaryIO, Iterator, Sequence

GZIP = "GZIP"
_GZIP_MAGIC = b"\x1f\x8b"
_HEADER = struct.Struct("<QI")  # length, masked CRC of the length
_FOOTER = struct.Struct("<I")  # masked CRC of the data
_MASK_DELTA = 0xA282EAD8
SHOWN = 10  # bad files named in the message; the count covers all of them
_THREADS = 8  # reading is mostly waiting on the disk or, for gs://, the network


def compression(path: str) -> str:
    """"GZIP" when the file starts with the GZIP magic bytes, else "" (uncompressed): the one place
    the project tells the two apart, for tf.data.TFRecordDataset's `compression_type`."""
    with _open(path) as f:
        return GZIP if f.read(2) == _GZIP_MAGIC else ""


def _open(path: str) -> BinaryIO:
    if "://" not in path:
        return open(path, "rb", buffering=1 << 20)
    import tensorflow as tf

    return tf.io.gfile.GFile(path, "rb")


def _masked_crc(data) -> int:
    import google_crc32c

    crc = google_crc32c.value(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


@dataclass(frozen=True)
class FileProblem:
    """What is wrong with one record file: `kind` is "truncated" or "corrupt"; `offset` is the byte
    where the bad record starts (in the decompressed stream for a GZIP file); `record` its index."""

    path: str
    kind: str
    offset: int
    record: int
    detail: str
    compressed: bool = False

    def __str__(self) -> str:
        stream = " of the decompressed stream" if self.compressed else ""
        return f"{self.path}: {self.kind} at byte {self.offset}{stream} (record {self.record}): {self.detail}"


class RecordFileError(ValueError):
    """Some record files are truncated or corrupt; the message names each file and byte offset."""


class RecordFileProblem(Exception):
    """Raised by `iter_records` at the first bad frame of a file."""

    def __init__(self, problem: FileProblem):
        super().__init__(str(problem))
        self.problem = problem


def iter_records(path: str) -> Iterator[tuple[int, bytes]]:
    """(byte offset, data) of every record in a TFRecord file, checksums verified; raises
    RecordFileProblem at the first frame that is cut short or does not match its checksum."""
    compressed = compression(path) == GZIP
    if compressed != path.endswith(".gz"):
        # Beam and ImportExampleGen choose the decompression from the file name alone.
        detail = ("GZIP-compressed, but its name does not end in .gz (rename it to ...tfrec.gz)" if compressed
                  else "named .gz, but not GZIP-compressed")
        raise RecordFileProblem(FileProblem(path, "corrupt", 0, 0, detail))
    offset, index = 0, 0

    def problem(kind: str, detail: str) -> RecordFileProblem:
        return RecordFileProblem(FileProblem(path, kind, offset, index, detail, compressed))

    with _open(path) as raw:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            while True:
                header = stream.read(_HEADER.size)
                if not header:
                    return
                if len(header) < _HEADER.size:
                    raise problem("truncated", f"the file ends {len(header)} bytes into a record's 12-byte header")
                length, length_crc = _HEADER.unpack(header)
                if _masked_crc(header[:8]) != length_crc:
                    raise problem("corrupt", "the record length does not match its checksum "
                                             "(not a TFRecord file, or damaged)")
                body = stream.read(length + _FOOTER.size)
                if len(body) < length + _FOOTER.size:
                    raise problem("truncated", f"the file ends {len(body)} bytes into a record of {length} bytes")
                data = body[:length]
                if _masked_crc(data) != _FOOTER.unpack_from(body, length)[0]:
                    raise problem("corrupt", f"the {length} bytes of the record do not match their checksum")
                yield offset, data
                offset += _HEADER.size + length + _FOOTER.size
                index += 1
        except EOFError as error:  # GZIP stream cut short
            raise problem("truncated", f"the GZIP stream ends early ({error})") from None
        except (gzip.BadGzipFile, zlib.error) as error:
            raise problem("corrupt", f"the GZIP stream is damaged ({error})") from None
        except OSError as error:
            raise problem("corrupt", f"cannot be read: {error}") from None


def check_file(path: str) -> dict | None:
    """None when every record of `path` is whole and matches its checksums, else the problem as a
    dict (FileProblem's fields: JSON-friendly, so it travels through a Beam job)."""
    try:
        for _ in iter_records(path):
            pass
    except RecordFileProblem as bad:
        return asdict(bad.problem)
    return None


def _raise_for(problems: Sequence[dict], checked: int) -> None:
    if not problems:
        return
    lines = [str(FileProblem(**p)) for p in sorted(problems, key=lambda p: p["path"])]
    raise RecordFileError(
        f"{len(lines)} of {checked} record files are damaged; nothing was read from any of them "
        "(re-copy or re-write these files, or move them out of the data folder):\n  " + "\n  ".join(lines[:SHOWN])
        + (f"\n  ... and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""))


def check_files(files: Sequence[str]) -> None:
    """Every record of every file checked, files in parallel threads; RecordFileError names each
    damaged file."""
    with ThreadPoolExecutor(min(_THREADS, max(1, len(files)))) as pool:
        problems = [p for p in pool.map(check_file, files) if p]
    _raise_for(problems, len(files))


def check_files_with_beam(files: Sequence[str], beam_args: Sequence[str]) -> None:
    """`check_files` as a Beam job on the runner `beam_args` choose, one file per element: for data
    on a distributed runner's side (gs://), too big for this machine to read in good time. The
    findings come back through files under the job's --temp_location (a runner on other machines
    needs one they all reach, e.g. gs://), else a local temporary folder."""
    import apache_beam as beam
    import tensorflow as tf
    from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions

    temp_root = PipelineOptions(list(beam_args)).view_as(GoogleCloudOptions).temp_location or tempfile.gettempdir()
    out = os.path.join(temp_root, f"flowers-record-file-check-{uuid.uuid4().hex}")
    try:
        with beam.Pipeline(argv=list(beam_args)) as pipeline:
            _ = (pipeline
                 | "RecordFiles" >> beam.Create(list(files))
                 | "Spread" >> beam.Reshuffle()
                 | "CheckRecordFile" >> beam.Map(check_file)
                 | "Damaged" >> beam.Filter(lambda problem: problem is not None)
                 | "ToJson" >> beam.Map(json.dumps)
                 | "Write" >> beam.io.WriteToText(os.path.join(out, "damaged")))
        problems = [json.loads(line) for name in tf.io.gfile.glob(os.path.join(out, "damaged*"))
                    for line in tf.io.gfile.GFile(name).read().splitlines() if line]
    finally:
        if tf.io.gfile.exists(out):
            tf.io.gfile.rmtree(out)
    _raise_for(problems, len(files))
