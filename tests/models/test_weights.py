"""Weight resolution and the offline ImageNet failure path."""
import socket
import urllib.request
from pathlib import Path

import pytest

import models
from models.weights import WeightsUnavailableError, resolve_weights

WEIGHTS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "weights"


@pytest.mark.parametrize("value", [None, "none", "None"])
def test_no_weights(value):
    assert resolve_weights("mobilenet_v2", value) is None


def test_imagenet_passes_through():
    assert resolve_weights("xception", "imagenet") == "imagenet"


@pytest.mark.parametrize("arch,file_name", [
    ("mobilenet_v2", "mobilenet_v2_1.0_224_no_top.h5"),
    ("xception", "xception_no_top.h5"),
])
def test_directory_resolves_to_the_arch_file(arch, file_name):
    assert resolve_weights(arch, str(WEIGHTS_DIR)) == str(WEIGHTS_DIR / file_name)
    assert resolve_weights(arch, str(WEIGHTS_DIR / file_name)) == str(WEIGHTS_DIR / file_name)


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nothing_here.h5"
    with pytest.raises(FileNotFoundError, match="nothing_here.h5"):
        resolve_weights("xception", str(missing))


def test_directory_without_match_says_what_it_looked_for(tmp_path):
    (tmp_path / "mobilenet_v2_x.h5").touch()
    with pytest.raises(FileNotFoundError, match=r"xception\*\.h5"):
        resolve_weights("xception", str(tmp_path))


def test_ambiguous_directory_is_refused(tmp_path):
    (tmp_path / "xception_a.h5").touch()
    (tmp_path / "xception_b.h5").touch()
    with pytest.raises(ValueError, match="several"):
        resolve_weights("xception", str(tmp_path))


def test_weights_in_a_bucket_are_read_through_tensorflow_file_systems():
    """--weights gs://BUCKET/weights/ on a cluster: the same tf.io.gfile calls, here on TensorFlow's
    in-memory file system (ram://) standing in for the bucket."""
    import numpy as np
    import tensorflow as tf

    name = "mobilenet_v2_1.0_224_no_top.h5"
    bucket = "ram://flowers-test/weights"
    tf.io.gfile.makedirs(bucket)
    tf.io.gfile.copy(str(WEIGHTS_DIR / name), f"{bucket}/{name}", overwrite=True)
    assert resolve_weights("mobilenet_v2", bucket) == f"{bucket}/{name}"
    with pytest.raises(FileNotFoundError, match=f"no xception weights in directory {bucket}"):
        resolve_weights("xception", bucket)
    from_bucket = models.build("mobilenet_v2", 96, 5, bucket)
    from_disk = models.build("mobilenet_v2", 96, 5, str(WEIGHTS_DIR))
    scratch = models.build("mobilenet_v2", 96, 5, "none")
    # The first convolution of the pretrained base: ImageNet's, not a random initialisation.
    np.testing.assert_array_equal(from_bucket.weights[0].numpy(), from_disk.weights[0].numpy())
    assert not np.array_equal(from_bucket.weights[0].numpy(), scratch.weights[0].numpy())


def _online() -> bool:
    try:
        socket.create_connection(("storage.googleapis.com", 443), timeout=3).close()
        return True
    except OSError:
        return False


def _assert_clear_error(err: WeightsUnavailableError, arch: str):
    text = str(err)
    assert f"ImageNet weights for {arch} could not be downloaded" in text
    assert "--weights /path/to/" in text and "--weights none" in text
    assert "URL fetch failure" in str(err.__cause__)  # raised by keras' own get_file


@pytest.mark.parametrize("arch,size", [("mobilenet_v2", 96), ("xception", 71)])
def test_imagenet_offline_raises_one_clear_error(arch, size, tmp_path, monkeypatch):
    if _online():
        pytest.skip("internet reachable: the genuine offline failure cannot happen here")
    # Empty keras cache (~/.keras) so keras really attempts the download.
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(WeightsUnavailableError) as err:
        models.build(arch, size, 5, "imagenet")
    _assert_clear_error(err.value, arch)


def test_imagenet_download_through_dead_proxy_raises_clear_error(tmp_path, monkeypatch):
    """Same real keras download path, made to fail deterministically even when online."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # discard port: connection refused
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(urllib.request, "_opener", None)  # re-read proxies from the env
    with pytest.raises(WeightsUnavailableError) as err:
        models.build("mobilenet_v2", 96, 5, "imagenet")
    _assert_clear_error(err.value, "mobilenet_v2")
