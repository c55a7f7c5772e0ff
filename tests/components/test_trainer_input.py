"""The Trainer's input pipeline (read, decode once, cache, shuffle, batch) and its cache choice."""
import gc
import glob
import tempfile

import numpy as np
import pytest
import tensorflow as tf

import models
from components import input_cache
from components.trainer import augmentation, make_dataset, resolve_hyperparameters
from components.transform import decode_and_resize, preprocessing_fn
from data import flowers

SIZE = 64


def _copy_raw(path, shared_flowers, count=12, skip=0) -> list[bytes]:
    """Raw records as ImportExampleGen writes them (gzipped, public layout); returns them."""
    records = list(tf.data.TFRecordDataset(flowers.list_record_files(str(shared_flowers)))
                   .skip(skip).take(count).as_numpy_iterator())
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for serialized in records:
            writer.write(serialized)
    return records


def _write_raw(path, shared_flowers, count=12, skip=0):
    """_copy_raw; returns the pixels Transform should make of each record."""
    return [decode_and_resize(tf.constant(flowers.decode_example(serialized)["image"]), SIZE).numpy()
            for serialized in _copy_raw(path, shared_flowers, count, skip)]


def _transform(features):
    """What the transform graph's layer computes in run_fn: preprocessing_fn itself."""
    return preprocessing_fn(features, {"image_size": SIZE})


# In run_fn both come from the transform graph; its raw spec is the curated schema's.
TRANSFORM = {"transform": _transform, "raw_spec": flowers.schema_feature_spec()}


def _images(ds):
    return [image for batch, _ in ds for image in batch.numpy()]


def _as_set(images):
    return sorted(image.tobytes() for image in images)


@pytest.mark.parametrize("cache", ["memory", "disk", "none"])
def test_every_split_gives_the_decoded_pixels_unchanged(tmp_path, shared_flowers, cache):
    """Only decoding in the input: the augmentation is the model's (models.augment)."""
    stored = _write_raw(tmp_path / "split.gz", shared_flowers)
    pattern = [str(tmp_path / "*.gz")]
    evaluation = make_dataset(pattern, 5, training=False, **TRANSFORM, cache=cache)
    for epoch in range(2):  # the second epoch from the cache
        images = _images(evaluation)
        assert len(images) == len(stored) and images[0].dtype == np.uint8
        for got, want in zip(images, stored):
            np.testing.assert_array_equal(got, want)
    train = make_dataset(pattern, 5, training=True, **TRANSFORM, cache=cache, seed=1)
    first, second = _images(train), _images(train)
    assert _as_set(first) == _as_set(second) == _as_set(stored)  # the same pixels, shuffled
    assert [i.tobytes() for i in first] != [i.tobytes() for i in second]


def test_disk_cache_is_a_local_file_removed_with_the_dataset(tmp_path, shared_flowers, monkeypatch):
    _copy_raw(tmp_path / "split.gz", shared_flowers)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    ds = make_dataset([str(tmp_path / "*.gz")], 5, training=True, **TRANSFORM, cache="disk")
    _images(ds)
    (folder,) = glob.glob(str(tmp_path / "tmp" / "flowers-cache-*"))
    assert glob.glob(f"{folder}/pixels*.index")  # written by the first epoch
    del ds
    gc.collect()
    assert not glob.glob(str(tmp_path / "tmp" / "flowers-cache-*"))


def test_auto_keeps_the_default_data_in_memory():
    default = [f"{flowers.default_data_dir()}/*.tfrec"]
    assert input_cache.choose("auto", {"train": default, "eval": default}, 192) == {"train": "memory", "eval": "memory"}


def test_auto_takes_the_disk_then_streams_when_the_budgets_are_low(tmp_path, shared_flowers):
    _copy_raw(tmp_path / "split.gz", shared_flowers, count=40)
    splits = {"train": [str(tmp_path / "*.gz")], "eval": [str(tmp_path / "*.gz")]}
    one_split = 40 * input_cache.pixel_bytes(SIZE)
    assert input_cache.choose("auto", splits, SIZE, memory_budget=one_split) == {"train": "memory", "eval": "disk"}
    assert input_cache.choose("auto", splits, SIZE, memory_budget=one_split // 2) == {"train": "disk", "eval": "disk"}
    assert input_cache.choose("auto", splits, SIZE, memory_budget=0, disk_budget=one_split) == \
        {"train": "disk", "eval": "none"}
    assert input_cache.choose("memory", splits, SIZE, memory_budget=0) == {"train": "memory", "eval": "memory"}
    with pytest.raises(ValueError, match="cache 'ram': expected one of auto, memory, disk, none"):
        input_cache.choose("ram", splits, SIZE)


def test_record_count_estimated_from_bytes_on_disk(tmp_path, shared_flowers):
    for k in range(3):
        _copy_raw(tmp_path / f"{k}.gz", shared_flowers, count=200, skip=200 * k)
    assert abs(input_cache.estimate_records([str(tmp_path / "*.gz")]) - 600) <= 60  # the sample: 3 × 85
    assert input_cache.estimate_records([str(tmp_path / "0.gz")]) == 200  # the sample is the whole file
    assert input_cache.estimate_records([str(tmp_path / "nothing*")]) == 0


def test_available_memory_is_positive_and_below_the_machine():
    import os

    assert 0 < input_cache.available_memory() <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_same_training_from_memory_or_disk(tmp_path, shared_flowers):
    """Seeded: the cache changes where pixels wait, not what the model learns."""
    _copy_raw(tmp_path / "train.gz", shared_flowers, count=64)
    _copy_raw(tmp_path / "eval.gz", shared_flowers, count=16, skip=64)
    hp = {"augment": True, "random_crop": True, "saturation": True, "seed": 4}

    def fit(cache):
        tf.keras.utils.set_random_seed(4)
        train = make_dataset([str(tmp_path / "train.gz")], 16, training=True, **TRANSFORM, cache=cache, seed=4)
        evaluation = make_dataset([str(tmp_path / "eval.gz")], 16, training=False, **TRANSFORM, cache=cache)
        model = models.build("convnet", SIZE, 5, augment=augmentation(hp))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model.fit(train, validation_data=evaluation, epochs=2, verbose=0).history

    memory, disk = fit("memory"), fit("disk")
    assert memory["val_accuracy"] == disk["val_accuracy"]
    np.testing.assert_allclose(memory["loss"], disk["loss"], rtol=1e-5)


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


def test_augmentation_follows_the_hyperparameters():
    hp = resolve_hyperparameters({"model": "squeezenet", "seed": 3, "augment": True})
    assert augmentation(hp) == {"random_crop": True, "saturation": True, "seed": 3}
    assert augmentation({**hp, "augment": False}) is None
