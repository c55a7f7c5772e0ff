"""The Trainer's input pipeline: augmentation on the train split only, eval untouched."""
import numpy as np
import pytest
import tensorflow as tf

from components.trainer import make_dataset, resolve_hyperparameters
from components.transform import decode_and_resize, preprocessing_fn
from data import flowers

SIZE = 64


def _write_raw(path, shared_flowers, count=12):
    """Raw records as ImportExampleGen writes them (gzipped, public layout); returns the pixels
    Transform should make of each."""
    records = tf.data.TFRecordDataset(flowers.list_record_files(str(shared_flowers))).take(count)
    stored = []
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for serialized in records.as_numpy_iterator():
            writer.write(serialized)
            stored.append(decode_and_resize(tf.constant(flowers.decode_example(serialized)["image"]), SIZE).numpy())
    return stored


def _transform(features):
    """What the transform graph's layer computes in run_fn: preprocessing_fn itself."""
    return preprocessing_fn(features, {"image_size": SIZE})


# In run_fn both come from the transform graph; its raw spec is the curated schema's.
TRANSFORM = {"transform": _transform, "raw_spec": flowers.schema_feature_spec()}


def _images(ds):
    return [image for batch, _ in ds for image in batch.numpy()]


def test_eval_split_is_never_augmented(tmp_path, shared_flowers):
    stored = _write_raw(tmp_path / "eval.gz", shared_flowers)
    images = _images(make_dataset([str(tmp_path / "*.gz")], 5, training=False, **TRANSFORM, seed=1))
    assert len(images) == len(stored)
    for got, want in zip(images, stored):
        np.testing.assert_array_equal(got, want.astype(np.float32))


def test_train_split_is_augmented(tmp_path, shared_flowers):
    stored = _write_raw(tmp_path / "train.gz", shared_flowers)
    plain = _images(make_dataset([str(tmp_path / "*.gz")], 5, training=True, **TRANSFORM, augment_data=False, seed=1))
    augmented = _images(make_dataset([str(tmp_path / "*.gz")], 5, training=True, **TRANSFORM, seed=1))
    as_set = lambda images: sorted(image.tobytes() for image in images)  # noqa: E731  (order is shuffled)
    assert as_set(plain) == as_set([s.astype(np.float32) for s in stored])  # shuffle only, same pixels
    assert len(set(as_set(augmented)) & set(as_set(plain))) < len(stored) // 2
    assert all(image.shape == (SIZE, SIZE, 3) for image in augmented)


def test_hyperparameters_fall_back_to_the_model_defaults():
    hp = resolve_hyperparameters({"model": "xception", "epochs": 3, "learning_rate": None, "weights": None})
    assert hp["epochs"] == 3  # given
    assert hp["learning_rate"] > 0 and hp["batch_size"] > 0 and "lr_ramp" in hp  # the model's own
    assert hp["weights"] == "imagenet"


def test_an_empty_split_stops_the_trainer_with_a_clear_error(tmp_path, shared_flowers):
    from components.trainer import EmptySplitError, require_records

    _write_raw(tmp_path / "full.gz", shared_flowers, count=1)
    require_records([str(tmp_path / "full.gz")], "validation")
    with tf.io.TFRecordWriter(str(tmp_path / "empty.gz"), options="GZIP"):
        pass  # what ImportExampleGen writes for a split no record fell into
    with pytest.raises(EmptySplitError, match="the validation split has no records: too few to split"):
        require_records([str(tmp_path / "empty.gz")], "validation")
