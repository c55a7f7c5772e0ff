"""The Trainer's input pipeline: augmentation on the train split only, eval untouched."""
import numpy as np
import tensorflow as tf

from components.trainer import make_dataset, resolve_hyperparameters
from components.transform import LABEL_KEY, PIXELS_KEY, decode_and_resize
from data import flowers

SIZE = 64


def _write_transformed(path, shared_flowers, count=12):
    """Transformed examples exactly as Transform writes them (gzipped tf.Examples of pixels + class)."""
    records = flowers.read_records(str(shared_flowers))
    stored = []
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for _ in range(count):
            record = next(records)
            pixels = decode_and_resize(tf.constant(record["image"]), SIZE)
            stored.append(pixels.numpy())
            feature = {
                PIXELS_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[tf.io.serialize_tensor(pixels).numpy()])),
                LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[record["class"]])),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return stored


def _images(ds):
    return [image for batch, _ in ds for image in batch.numpy()]


def test_eval_split_is_never_augmented(tmp_path, shared_flowers):
    stored = _write_transformed(tmp_path / "eval.gz", shared_flowers)
    images = _images(make_dataset([str(tmp_path / "*.gz")], SIZE, 5, training=False, seed=1))
    assert len(images) == len(stored)
    for got, want in zip(images, stored):
        np.testing.assert_array_equal(got, want.astype(np.float32))


def test_train_split_is_augmented(tmp_path, shared_flowers):
    stored = _write_transformed(tmp_path / "train.gz", shared_flowers)
    plain = _images(make_dataset([str(tmp_path / "*.gz")], SIZE, 5, training=True, augment_data=False, seed=1))
    augmented = _images(make_dataset([str(tmp_path / "*.gz")], SIZE, 5, training=True, seed=1))
    as_set = lambda images: sorted(image.tobytes() for image in images)  # noqa: E731  (order is shuffled)
    assert as_set(plain) == as_set([s.astype(np.float32) for s in stored])  # shuffle only, same pixels
    assert len(set(as_set(augmented)) & set(as_set(plain))) < len(stored) // 2
    assert all(image.shape == (SIZE, SIZE, 3) for image in augmented)


def test_hyperparameters_fall_back_to_the_model_defaults():
    hp = resolve_hyperparameters({"model": "xception", "epochs": 3, "learning_rate": None, "weights": None})
    assert hp["epochs"] == 3  # given
    assert hp["learning_rate"] > 0 and hp["batch_size"] > 0 and "lr_ramp" in hp  # the model's own
    assert hp["weights"] == "imagenet"
