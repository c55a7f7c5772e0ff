"""ImageCheck on ExampleGen-shaped output: real photos pass, broken ones are named."""
import pytest
import tensorflow as tf

from components.image_check import find_undecodable
from data import flowers


def _split(root, split, records):
    folder = root / f"Split-{split}"
    folder.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(folder / "data_tfrecord-00000-of-00001.gz"), options="GZIP") as writer:
        for record in records:
            writer.write(record)


@pytest.fixture(scope="module")
def photos(shared_flowers):
    return [r["image"] for _, r in zip(range(4), flowers.read_records(str(shared_flowers / "flowers05-245.tfrec")))]


def test_real_photos_pass(tmp_path, photos):
    _split(tmp_path, "train", [flowers.encode_example(p, 0, 192, 192) for p in photos])
    assert find_undecodable(str(tmp_path), ["train"]) == (4, [])


def test_truncated_and_random_bytes_are_named(tmp_path, photos):
    _split(tmp_path, "train", [flowers.encode_example(photos[0], 0, 192, 192)])
    _split(tmp_path, "eval", [flowers.encode_example(photos[1], 1, 192, 192),
                              flowers.encode_example(photos[2][:200], 2, 192, 192),
                              flowers.encode_example(b"\x00\x01 not an image", 3, 192, 192)])
    checked, bad = find_undecodable(str(tmp_path), ["train", "eval"])
    assert checked == 4 and len(bad) == 2
    assert bad[0].startswith("split 'eval' record 1 (label 'roses'): ")
    assert bad[1].startswith("split 'eval' record 2 (label 'sunflowers'): ")
