"""Images/s of the Trainer's input pipeline against a raw JPEG decode of the same records.

    .venv/bin/python benchmarks/input.py [--data ../shared/flowers] [--limit N] [--image-size 192]
                                         [--batch-size 32] [--repeats 3] [--shards CORES]

Transformed examples are made without a pipeline run: components.transform.encode_pixels (the
function preprocessing_fn applies) turns each raw record's JPEG into serialized uint8 pixels, written
beside its class as GZIP tf.Examples with Transform's feature names, in `--shards` files in a temp
dir. Default 1, as a real run writes them: pipeline/local.py runs Beam in-process for data under
1 GiB, and Transform then writes one file per split; multi-process Beam writes one per worker
(`--shards 2` here). GZIP is inflated by one thread per file, so the file count matters.

Rows, each the best of `--repeats` passes over every record:
  raw decode        plain reader of the raw records: parallel read, parse, decode_jpeg, resize, batch
  read and parse    the transformed files' GZIP inflate and parse alone: the floor of any reader
  Trainer, epoch 1  components.trainer.make_dataset, train split: read GZIP, parse, parse_tensor,
                    cache fill, shuffle, augment, cast, batch (a fresh dataset: nothing cached)
  Trainer, cached   the same dataset's next epoch: from the in-memory cache
  (the same two for the eval split: no shuffle, no augmentation)
Last line: ratio = Trainer epoch 1 (uncached, augmented) images/s ÷ raw decode images/s (target ≥ 0.8).
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

# The repo root first on the path, not benchmarks/ (whose pipeline.py would shadow the package).
sys.path[0] = str(Path(__file__).resolve().parents[1])

import tensorflow as tf  # noqa: E402

from benchmarks import common  # noqa: E402
from components.trainer import make_dataset  # noqa: E402
from components.transform import LABEL_KEY, PIXELS_KEY, encode_pixels  # noqa: E402
from data import flowers  # noqa: E402


def write_transformed(raw_files: list[str], image_size: int, out_dir: str, shards: int) -> tuple[int, int]:
    """Raw records → transformed GZIP tf.Examples in `shards` files; returns (records, bytes on disk)."""
    paths = [os.path.join(out_dir, f"transformed_examples-{i:05d}-of-{shards:05d}.gz") for i in range(shards)]
    writers = [tf.io.TFRecordWriter(p, options="GZIP") for p in paths]
    count = 0
    for records in tf.data.TFRecordDataset(raw_files).batch(64):
        batch = tf.io.parse_example(records, common.RAW_SPEC)
        pixels = encode_pixels(batch[flowers.IMAGE_KEY], image_size).numpy()
        for serialized, label in zip(pixels, batch[flowers.CLASS_KEY].numpy()):
            example = tf.train.Example(features=tf.train.Features(feature={
                PIXELS_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[serialized])),
                LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            }))
            writers[count % shards].write(example.SerializeToString())
            count += 1
    for writer in writers:
        writer.close()
    return count, sum(os.path.getsize(p) for p in paths)


def best(passes) -> tuple[int, float]:
    """(images, seconds) of the fastest pass."""
    return min(passes, key=lambda p: p[1])


def measure_trainer(pattern: str, args, training: bool) -> tuple[tuple[int, float], tuple[int, float]]:
    """Best first (uncached) and best cached epoch of make_dataset over fresh datasets."""
    first, cached = [], []
    for _ in range(args.repeats):
        ds = make_dataset([pattern], args.image_size, args.batch_size, training=training)
        first.append(common.images_per_second(ds))
        cached.append(common.images_per_second(ds))
    return best(first), best(cached)


def read_and_parse(pattern: str, batch_size: int) -> tf.data.Dataset:
    """Only the first stage of make_dataset: read (inflate GZIP) and parse the examples, no pixels
    decoded; the floor of any reader of these files."""
    spec = {PIXELS_KEY: tf.io.FixedLenFeature([], tf.string), LABEL_KEY: tf.io.FixedLenFeature([], tf.int64)}
    files = tf.io.gfile.glob(pattern)
    ds = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type="GZIP"), num_parallel_calls=common.AUTOTUNE)
    ds = ds.map(lambda s: tf.io.parse_single_example(s, spec), num_parallel_calls=common.AUTOTUNE)
    return ds.map(lambda f: (f[PIXELS_KEY], f[LABEL_KEY])).batch(batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(common.DATA), help="raw records (default %(default)s)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N records (default: all)")
    parser.add_argument("--image-size", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="passes per row; the best is shown")
    parser.add_argument("--shards", type=int, default=1,
                        help="transformed files (default 1, as Transform writes them with in-process Beam)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-input-") as tmp:
        raw_files = flowers.list_record_files(common.write_slice(args.data, args.limit, os.path.join(tmp, "raw")))
        count, size = write_transformed(raw_files, args.image_size, tmp, args.shards)
        pattern = os.path.join(tmp, "transformed_examples-*.gz")
        raw = best([common.images_per_second(common.plain_dataset(raw_files, args.image_size, args.batch_size,
                                                                  cache=False))
                    for _ in range(args.repeats)])
        inflate = best([common.images_per_second(read_and_parse(pattern, args.batch_size))
                        for _ in range(args.repeats)])
        train_first, train_cached = measure_trainer(pattern, args, training=True)
        eval_first, eval_cached = measure_trainer(pattern, args, training=False)

    rows = [("raw decode (decode_jpeg + resize, parallel reads)", raw),
            ("transformed files: read (GZIP inflate) and parse only", inflate),
            ("Trainer input, train split, epoch 1 (uncached)", train_first),
            ("Trainer input, train split, cached epoch", train_cached),
            ("Trainer input, eval split, epoch 1 (uncached)", eval_first),
            ("Trainer input, eval split, cached epoch", eval_cached)]
    raw_ips = raw[0] / raw[1]
    print(f"\n{count} records, {args.image_size} px, batch {args.batch_size}, best of {args.repeats}; "
          f"{common.hardware()}")
    print(f"transformed examples: {size / count / 1024:.1f} KiB/image on disk (GZIP), "
          f"{args.image_size * args.image_size * 3 / 1024:.1f} KiB/image of uint8 pixels; "
          f"{len(raw_files)} raw files, {args.shards} transformed files")
    print(common.table(["input pipeline", "images", "seconds", "images/s", "÷ raw decode"],
                       [[name, n, f"{s:.2f}", f"{n / s:.0f}", f"{n / s / raw_ips:.2f}"] for name, (n, s) in rows]))
    print(f"ratio={train_first[0] / train_first[1] / raw_ips:.2f}")


if __name__ == "__main__":
    main()
