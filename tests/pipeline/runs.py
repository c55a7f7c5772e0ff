"""Running `flowers run` the way a user does, for tests that need a real pipeline run."""
import json
import os
import subprocess
import sys
from pathlib import Path

FLOWERS = str(Path(sys.executable).with_name("flowers"))
# Small and quick: the fixed TFX overhead dominates; the model still has to learn something.
TINY_FLAGS = ["--image-size", "64", "--epochs", "4", "--seed", "7"]


def user_env() -> dict:
    """The environment of a user's shell: without TF_USE_LEGACY_KERAS, which the CLI must set itself."""
    return {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}


def flowers_run(*flags: str, check: bool = True, command: str = "run") -> tuple[subprocess.CompletedProcess, dict]:
    """`flowers run ... --json` (or another `command` that takes run flags) in a fresh process;
    returns (process, summary)."""
    proc = subprocess.run([FLOWERS, command, *flags, "--json"], capture_output=True, text=True, env=user_env(),
                          timeout=1200)
    if check:
        assert proc.returncode == 0, f"flowers {command} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {}
    return proc, summary


def write_real_records(shared_flowers: Path, folder: Path, count: int, classes: tuple[str, ...] = ()) -> Path:
    """The first `count` real photos of ../shared/flowers as one TFRecord file in `folder`; returns
    `folder`. With `classes`, as many photos of each of those (count / classes), renumbered in that
    order and named in a labels.txt."""
    import tensorflow as tf

    from data import flowers

    files = flowers.list_record_files(str(shared_flowers))
    per_class: dict[str, int] = {}
    written = 0
    with tf.io.TFRecordWriter(str(folder / f"real00-{count}.tfrec")) as writer:
        for serialized in tf.data.TFRecordDataset(files).as_numpy_iterator():
            if written == count:
                break
            if classes:
                record = flowers.decode_example(serialized)
                label = record[flowers.LABEL_KEY]
                if label not in classes or per_class.get(label, 0) == count // len(classes):
                    continue
                per_class[label] = per_class.get(label, 0) + 1
                serialized = flowers.encode_example(record[flowers.IMAGE_KEY], classes.index(label),
                                                    *record[flowers.SIZE_KEY], class_names=classes)
            writer.write(serialized)
            written += 1
    if classes:
        (folder / flowers.LABELS_FILE).write_text("".join(f"{name}\n" for name in classes))
    return folder


def base_kernel_drift(model_dir: str, weights_file: Path, layer: str) -> tuple[float, float]:
    """(largest change of `layer`'s kernel in the model pushed to `model_dir` from its ImageNet
    values in `weights_file`, largest ImageNet value): 0 change means the base stayed frozen."""
    import h5py
    import numpy as np
    import tensorflow as tf

    trained = {v.name: v.numpy() for v in tf.saved_model.load(model_dir).variables}[f"{layer}/kernel:0"]
    with h5py.File(weights_file, "r") as f:
        imagenet = f[layer][layer]["kernel"][()]
    assert trained.shape == imagenet.shape
    return float(np.abs(trained - imagenet).max()), float(np.abs(imagenet).max())
