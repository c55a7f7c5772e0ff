"""Where the pretrained weights of the transfer-learning models come from.

Keras applications download ImageNet weights on first use; offline machines must point at a
local .h5 copy instead. Either way the result must be the weights asked for: a failed
download is an error, never a silent fallback to random initialisation.
"""
import urllib.error
from pathlib import Path
from typing import Callable

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
    the single `<arch>*.h5` file in it.
    """
    if weights is None or str(weights).lower() == "none":
        return None
    if str(weights).lower() == "imagenet":
        return "imagenet"
    path = Path(weights).expanduser()
    if path.is_dir():
        found = sorted(p for p in path.glob(f"{arch}*.h5") if p.is_file())
        if not found:
            raise FileNotFoundError(
                f"no {arch} weights in directory {path}: looked for a file matching "
                f"'{arch}*.h5' (e.g. {_expected_file(arch)})")
        if len(found) > 1:
            raise ValueError(
                f"several {arch} weight files in {path}: {', '.join(p.name for p in found)}; "
                "pass the file itself")
        return str(found[0])
    if path.suffix == ".h5":
        if not path.is_file():
            raise FileNotFoundError(f"{arch} weights file not found: {path}")
        return str(path)
    raise FileNotFoundError(
        f"weights {weights!r} for {arch}: expected 'imagenet', 'none', an existing .h5 file "
        f"or a directory holding {arch}*.h5 (e.g. {_expected_file(arch)})")


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
        return factory(weights=resolved, **kwargs)
    except Exception as err:
        if resolved != "imagenet" or not _is_download_failure(err):
            raise
        raise WeightsUnavailableError(
            f"ImageNet weights for {arch} could not be downloaded ({err}). Pass "
            f"--weights /path/to/{_expected_file(arch)} (or a directory holding it) to use a "
            "local copy, or --weights none to train from scratch.") from err


def check_no_weights(arch: str, weights: str | None) -> None:
    """Models trained from scratch have no pretrained weights to load; say so loudly."""
    if weights is not None and str(weights).lower() != "none":
        raise ValueError(f"{arch} has no pretrained weights; got weights={weights!r}, "
                         "expected None or 'none'")
