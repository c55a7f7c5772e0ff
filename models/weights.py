"""Where the pretrained weights of the transfer-learning models come from.

Keras applications download ImageNet weights on first use; offline machines (and cluster steps
without internet access) point at a .h5 copy instead, local or in a bucket (gs://...). Either way
the result must be the weights asked for: a failed download is an error, never a silent fallback
to random initialisation.
"""
import contextlib
import os
import tempfile
import urllib.error
from pathlib import Path
from typing import Callable, Iterator

import tensorflow as tf

# File names suggested to the user when a download fails (the names the project's offline
# copies use; any `<arch>*.h5` in a directory is accepted).
EXPECTED_FILES = {
    "mobilenet_v2": "mobilenet_v2_1.0_224_no_top.h5",
    "xception": "xception_no_top.h5",
}


class WeightsUnavailableError(RuntimeError):
    """ImageNet weights were requested but could not be obtained."""


def _expected_file(arch: str) -> str:
    return EXPECTED_FILES.get(arch, f"{arch}_no_top.h5")


def resolve_weights(arch: str, weights: str | None) -> str | None:
    """Turn a user's --weights value into what keras.applications accepts.

    None/"none" -> None, "imagenet" -> "imagenet", an .h5 file -> its path, a directory ->
    the single `<arch>*.h5` file in it. Files and directories may be local or remote (gs://,
    read through TensorFlow's file systems: see load_application).
    """
    if weights is None or str(weights).lower() == "none":
        return None
    if str(weights).lower() == "imagenet":
        return "imagenet"
    location = str(weights) if "://" in str(weights) else str(Path(weights).expanduser())
    if tf.io.gfile.isdir(location):
        found = sorted(p for p in tf.io.gfile.glob(os.path.join(location, f"{arch}*.h5"))
                       if not tf.io.gfile.isdir(p))
        if not found:
            raise FileNotFoundError(
                f"no {arch} weights in directory {location}: looked for a file matching "
                f"'{arch}*.h5' (e.g. {_expected_file(arch)})")
        if len(found) > 1:
            raise ValueError(
                f"several {arch} weight files in {location}: {', '.join(os.path.basename(p) for p in found)}; "
                "pass the file itself")
        return found[0]
    if location.endswith(".h5"):
        if not tf.io.gfile.exists(location):
            raise FileNotFoundError(f"{arch} weights file not found: {location}")
        return location
    raise FileNotFoundError(
        f"weights {weights!r} for {arch}: expected 'imagenet', 'none', an existing .h5 file "
        f"or a directory holding {arch}*.h5 (e.g. {_expected_file(arch)})")


@contextlib.contextmanager
def _local_file(location: str | None) -> Iterator[str | None]:
    """`location`, or for a remote file (gs://...) a temporary local copy of it: Keras reads
    weight files from local paths only."""
    if location is None or location == "imagenet" or "://" not in location:
        yield location
        return
    with tempfile.TemporaryDirectory(prefix="flowers-weights-") as folder:
        local = os.path.join(folder, os.path.basename(location))
        tf.io.gfile.copy(location, local)
        yield local


def _is_download_failure(err: Exception) -> bool:
    # tf.keras' get_file turns urllib errors into a bare Exception("URL fetch failure ...");
    # sockets may also raise OSError directly, and a truncated download fails its hash check.
    text = str(err)
    return (isinstance(err, (OSError, urllib.error.URLError))
            or "URL fetch failure" in text
            or "Incomplete or corrupted file" in text)


def load_application(arch: str, factory: Callable[..., tf.keras.Model],
                     weights: str | None, **kwargs) -> tf.keras.Model:
    """Call a keras.applications constructor with resolved weights; one clear error offline."""
    resolved = resolve_weights(arch, weights)
    try:
        with _local_file(resolved) as local:
            return factory(weights=local, **kwargs)
    except Exception as err:
        if resolved != "imagenet" or not _is_download_failure(err):
            raise
        raise WeightsUnavailableError(
            f"ImageNet weights for {arch} could not be downloaded ({err}). Pass "
            f"--weights /path/to/{_expected_file(arch)} (or gs://..., or a directory holding it) to use "
            "a copy, or --weights none to train from scratch.") from err


def check_no_weights(arch: str, weights: str | None) -> None:
    """Models trained from scratch have no pretrained weights to load; say so loudly."""
    if weights is not None and str(weights).lower() != "none":
        raise ValueError(f"{arch} has no pretrained weights; got weights={weights!r}, "
                         "expected None or 'none'")
