"""Images/s of the Trainer's input pipeline against a raw JPEG decode of the same records, side by side.

    .venv/bin/python benchmarks/input.py [--data ../shared/flowers] [--limit N] [--image-size 192]
                                         [--batch-size 32] [--repeats 3] [--shards 1]
                                         [--caches memory,disk]

The records are first copied as ImportExampleGen stores them (GZIP) into `--shards` files in a temp
dir: 1 by default, as a real run writes them (pipeline/local.py runs Beam in-process for data under
1 GiB; multi-process Beam writes one file per worker). Both sides read those files.

Every round passes once over every record for each row, the rows one after the other, so that a
change in the load of shared cores falls on both sides of a ratio:
  raw decode        the source material's reader: parallel read, parse, decode_jpeg, resize, batch
  read and parse    GZIP inflate and parse alone: the floor of any reader of these files
  Trainer, epoch 1  components.trainer.make_dataset, train split, for each `--caches` mode: read,
                    parse, Transform's function (preprocessing_fn, called directly: in run_fn it is
                    the transform graph's layer), cache fill, shuffle, batch (a fresh dataset: nothing
                    cached; the augmentation is in the model's training step, models.augment)
  Trainer, cached   the same dataset's next epoch: from the cache (memory, or the local file)
  (the same two for the eval split, memory cache: no shuffle)
Each row shows the best round's images/s, and its ratio to raw decode in the same round as the
median and the range over rounds; the same again per CPU second (this process's, every thread):
the work alone, which the load of shared cores hardly moves. Last lines: ratio_first = Trainer
epoch 1 (memory cache) ÷ raw decode (target ≥ 0.9), ratio_cached = cached epoch ÷ raw decode
(target ≥ 1.0), medians, each with its _cpu twin.
"""
import os

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

# The repo root first on the path, not benchmarks/ (whose pipeline.py would shadow the package).
sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks import common  # noqa: E402  (first: sets TF_USE_LEGACY_KERAS, quiets TensorFlow)

import tensorflow as tf  # noqa: E402

from components.trainer import make_dataset  # noqa: E402
from components.transform import preprocessing_fn  # noqa: E402
from data import flowers, records  # noqa: E402


def trainer_passes(files: list[str], args, training: bool, cache: str) -> tuple[tuple[int, float], ...]:
    """(first, cached) epoch of a fresh make_dataset: common.timed_pass each."""
    def transform(features):
        return preprocessing_fn(features, {"image_size": args.image_size})

    ds = make_dataset(files, args.batch_size, training=training, transform=transform,
                      raw_spec=flowers.schema_feature_spec(), cache=cache)
    return common.timed_pass(ds), common.timed_pass(ds)


def read_and_parse(files: list[str], batch_size: int) -> tf.data.Dataset:
    """Only the first stage of make_dataset: read (inflate GZIP) and parse, nothing decoded."""
    compression = records.compression(files[0])
    ds = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type=compression), num_parallel_calls=common.AUTOTUNE)
    ds = ds.map(lambda s: tf.io.parse_single_example(s, common.RAW_SPEC), num_parallel_calls=common.AUTOTUNE)
    return ds.map(lambda f: (f[flowers.IMAGE_KEY], f[flowers.CLASS_KEY])).batch(batch_size)


def one_round(files: list[str], args) -> dict[str, tuple[int, float, float]]:
    """{row name: (images, wall seconds, CPU seconds)} of one pass per row."""
    row = {"raw decode (decode_jpeg + resize, parallel reads)":
           common.timed_pass(common.plain_dataset(files, args.image_size, args.batch_size, cache=False)),
           "read (GZIP inflate) and parse only": common.timed_pass(read_and_parse(files, args.batch_size))}
    for cache in args.caches:
        first, cached = trainer_passes(files, args, training=True, cache=cache)
        row[f"Trainer input, train split, {cache} cache, epoch 1"] = first
        row[f"Trainer input, train split, {cache} cache, cached epoch"] = cached
    first, cached = trainer_passes(files, args, training=False, cache="memory")
    row["Trainer input, eval split, memory cache, epoch 1"] = first
    row["Trainer input, eval split, memory cache, cached epoch"] = cached
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(common.DATA), help="raw records (default %(default)s)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (default: all)")
    parser.add_argument("--image-size", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every row (default %(default)s)")
    parser.add_argument("--shards", type=int, default=1,
                        help="record files (default 1, as ImportExampleGen writes a split with in-process Beam)")
    parser.add_argument("--caches", type=lambda text: text.split(","), default=["memory", "disk"],
                        help="the Trainer's cache modes to measure, comma-separated (default memory,disk)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-input-") as tmp:
        files, count = common.copy_records(flowers.list_record_files(args.data), tmp, args.shards, args.limit,
                                           compression=records.GZIP)
        size = sum(os.path.getsize(f) for f in files)
        rounds = []
        for round_ in range(args.repeats):
            print(f"round {round_ + 1} of {args.repeats} ...", file=sys.stderr, flush=True)
            rounds.append(one_round(files, args))

    raw_name = next(iter(rounds[0]))

    def ratios(name: str, clock: int) -> list[float]:
        """Per round, the row's images per second (clock 1: wall, 2: CPU) ÷ raw decode's."""
        return sorted(r[name][0] / r[name][clock] / (r[raw_name][0] / r[raw_name][clock]) for r in rounds)

    print(f"\n{count} records, {args.image_size} px, batch {args.batch_size}, {args.repeats} rounds; "
          f"{common.hardware()}")
    print(f"records on disk: {size / count / 1024:.1f} KiB/image (GZIP JPEG) in {args.shards} file(s); "
          f"the Trainer's cache holds {args.image_size * args.image_size * 3 / 1024:.1f} KiB/image of uint8 pixels")
    rows = []
    for name in rounds[0]:
        images, seconds, _ = min((r[name] for r in rounds), key=lambda p: p[1])
        wall, cpu = ratios(name, 1), ratios(name, 2)
        rows.append([name, images, f"{images / seconds:.0f}", f"{statistics.median(wall):.2f}",
                     f"{wall[0]:.2f}–{wall[-1]:.2f}", f"{images / min(r[name][2] for r in rounds):.0f}",
                     f"{statistics.median(cpu):.2f}", f"{cpu[0]:.2f}–{cpu[-1]:.2f}"])
    print(common.table(["input pipeline", "images", "best images/s", "÷ raw decode (median)", "(range)",
                        "best images per CPU s", "÷ raw decode by CPU (median)", "(range)"], rows))
    first, cached = (f"Trainer input, train split, {args.caches[0]} cache, {epoch}" for epoch in ("epoch 1", "cached epoch"))
    for label, name, target in (("first", first, 0.9), ("cached", cached, 1.0)):
        print(f"ratio_{label}_cpu={statistics.median(ratios(name, 2)):.2f}")
        print(f"ratio_{label}={statistics.median(ratios(name, 1)):.2f} ({args.caches[0]} cache; target >= {target})")


if __name__ == "__main__":
    main()
