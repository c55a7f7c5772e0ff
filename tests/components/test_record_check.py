"""RecordCheck on ExampleGen-shaped output: real photos pass, broken images and mislabelled records are named."""
import pytest
import tensorflow as tf

from components.record_check import find_bad_records
from data import flowers


def _split(root, split, records):
    folder = root / f"Split-{split}"
    folder.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(folder / "data_tfrecord-00000-of-00001.gz"), options="GZIP") as writer:
        for record in records:
            writer.write(record)


def _relabelled(serialized: bytes, label: bytes) -> bytes:
    example = tf.train.Example.FromString(serialized)
    example.features.feature[flowers.LABEL_KEY].bytes_list.value[:] = [label]
    return example.SerializeToString()


@pytest.fixture(scope="module")
def photos(shared_flowers):
    return [r["image"] for _, r in zip(range(4), flowers.read_records(str(shared_flowers / "flowers05-245.tfrec")))]


def test_real_photos_pass(tmp_path, photos):
    _split(tmp_path, "train", [flowers.encode_example(p, k, 192, 192) for k, p in enumerate(photos)])
    assert find_bad_records(str(tmp_path), ["train"]) == (4, [])


def test_truncated_and_random_bytes_are_named(tmp_path, photos):
    _split(tmp_path, "train", [flowers.encode_example(photos[0], 0, 192, 192)])
    _split(tmp_path, "eval", [flowers.encode_example(photos[1], 1, 192, 192),
                              flowers.encode_example(photos[2][:200], 2, 192, 192),
                              flowers.encode_example(b"\x00\x01 not an image", 3, 192, 192)])
    checked, bad = find_bad_records(str(tmp_path), ["train", "eval"])
    assert checked == 4 and len(bad) == 2
    assert bad[0].startswith("split 'eval' record 1 (label 'roses'): image does not decode: ")
    assert bad[1].startswith("split 'eval' record 2 (label 'sunflowers'): image does not decode: ")


def test_class_and_label_disagreeing_is_named(tmp_path, photos):
    good = flowers.encode_example(photos[0], 3, 192, 192)
    _split(tmp_path, "train", [good, _relabelled(good, b"tulips")])
    checked, bad = find_bad_records(str(tmp_path), ["train"])
    assert checked == 2
    assert bad == ["split 'train' record 1 (label 'tulips'): class 3 means 'sunflowers' but the label says 'tulips'"]


def test_a_missing_image_is_named_not_crashed_on(tmp_path):
    example = tf.train.Example.FromString(flowers.encode_example(b"", 0, 8, 8))
    del example.features.feature[flowers.IMAGE_KEY]
    _split(tmp_path, "train", [example.SerializeToString()])
    assert find_bad_records(str(tmp_path), ["train"]) == (1, ["split 'train' record 0 (label 'daisy'): no image bytes"])
