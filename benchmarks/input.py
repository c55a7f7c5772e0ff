"""Images/s of the Trainer's input pipeline against a raw JPEG decode of the same records.

    .venv/bin/python benchmarks/input.py [--data ../shared/flowers] [--limit N] [--image-size 192]
                                         [--batch-size 32] [--repeats 3] [--shards 1]

The records are first copied as ImportExampleGen stores them (GZIP) into `--shards` files in a temp
dir: 1 by default, as a real run writes them (pipeline/local.py runs Beam in-process for data under
1 GiB; multi-process Beam writes one file per worker). Both sides read those files.

Rows, each the best of `--repeats` passes over every record:
  raw decode        the source material's reader: parallel read, parse, decode_jpeg, resize, batch
  read and parse    GZIP inflate and parse alone: the floor of any reader of these files
  Trainer, epoch 1  components.trainer.make_dataset, train split: read, parse, Transform's function
                    (preprocessing_fn, called directly: in run_fn it is the transform graph's layer),
                    cache fill, shuffle, augment, cast, batch (a fresh dataset: nothing cached)
  Trainer, cached   the same dataset's next epoch: from the in-memory cache
  (the same two for the eval split: no shuffle, no augmentation)
Last line: ratio = Trainer epoch 1 (uncached, augmented) images/s ÷ raw decode images/s (target ≥ 0.8).
"""
import os

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

# The repo root first on the path, not benchmarks/ (whose pipeline.py would shadow the package).
sys.path[0] = str(Path(__file__).resolve().parents[1])

import tensorflow as tf  # noqa: E402

from benchmarks import common  # noqa: E402
from components.trainer import make_dataset  # noqa: E402
from components.transform import preprocessing_fn  # noqa: E402
from data import flowers  # noqa: E402


def best(passes) -> tuple[int, float]:
    """(images, seconds) of the fastest pass."""
    return min(passes, key=lambda p: p[1])


def measure_trainer(files: list[str], args, training: bool) -> tuple[tuple[int, float], tuple[int, float]]:
    """Best first (uncached) and best cached epoch of make_dataset over fresh datasets."""
    def transform(features):
        return preprocessing_fn(features, {"image_size": args.image_size})

    first, cached = [], []
    for _ in range(args.repeats):
        ds = make_dataset(files, args.batch_size, training=training, transform=transform,
                          raw_spec=flowers.schema_feature_spec())
        first.append(common.images_per_second(ds))
        cached.append(common.images_per_second(ds))
    return best(first), best(cached)


def read_and_parse(files: list[str], batch_size: int) -> tf.data.Dataset:
    """Only the first stage of make_dataset: read (inflate GZIP) and parse, nothing decoded."""
    ds = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type="GZIP"), num_parallel_calls=common.AUTOTUNE)
    ds = ds.map(lambda s: tf.io.parse_single_example(s, common.RAW_SPEC), num_parallel_calls=common.AUTOTUNE)
    return ds.map(lambda f: (f[flowers.IMAGE_KEY], f[flowers.CLASS_KEY])).batch(batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(common.DATA), help="raw records (default %(default)s)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (default: all)")
    parser.add_argument("--image-size", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="passes per row; the best is shown")
    parser.add_argument("--shards", type=int, default=1,
                        help="record files (default 1, as ImportExampleGen writes a split with in-process Beam)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-input-") as tmp:
        files, count = common.copy_records(flowers.list_record_files(args.data), tmp, args.shards, args.limit,
                                           compression="GZIP")
        size = sum(os.path.getsize(f) for f in files)
        raw = best([common.images_per_second(common.plain_dataset(files, args.image_size, args.batch_size,
                                                                  cache=False))
                    for _ in range(args.repeats)])
        inflate = best([common.images_per_second(read_and_parse(files, args.batch_size))
                        for _ in range(args.repeats)])
        train_first, train_cached = measure_trainer(files, args, training=True)
        eval_first, eval_cached = measure_trainer(files, args, training=False)

    rows = [("raw decode (decode_jpeg + resize, parallel reads)", raw),
            ("read (GZIP inflate) and parse only", inflate),
            ("Trainer input, train split, epoch 1 (uncached)", train_first),
            ("Trainer input, train split, cached epoch", train_cached),
            ("Trainer input, eval split, epoch 1 (uncached)", eval_first),
            ("Trainer input, eval split, cached epoch", eval_cached)]
    raw_ips = raw[0] / raw[1]
    print(f"\n{count} records, {args.image_size} px, batch {args.batch_size}, best of {args.repeats}; "
          f"{common.hardware()}")
    print(f"records on disk: {size / count / 1024:.1f} KiB/image (GZIP JPEG) in {args.shards} file(s); "
          f"the Trainer's cache holds {args.image_size * args.image_size * 3 / 1024:.1f} KiB/image of uint8 pixels")
    print(common.table(["input pipeline", "images", "seconds", "images/s", "÷ raw decode"],
                       [[name, n, f"{s:.2f}", f"{n / s:.0f}", f"{n / s / raw_ips:.2f}"] for name, (n, s) in rows]))
    print(f"ratio={train_first[0] / train_first[1] / raw_ips:.2f}")


if __name__ == "__main__":
    main()
