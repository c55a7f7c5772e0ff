"""`flowers data fetch`: the public data the tests and benchmarks read, made from its origins.

A clone of the project has no `../shared`. This downloads the public flower_photos archive (3,670
photos, CC-BY; the set the source material's TFRecords were made from) and the Keras ImageNet weights
of the two transfer models, checks each download against its published size and hash, converts the
photos into TFRecords in the public layout (`flowers data convert`, 192 px) and lays everything out
as the tests expect:

    DEST/flowers/   flowers00-NNN.tfrec ... labels.txt LICENSE.txt
    DEST/weights/   mobilenet_v2_1.0_224_no_top.h5 xception_no_top.h5 SHA256SUMS

DEST is `../shared` beside the checkout unless FLOWERS_SHARED names another folder (tests and
benchmarks read the same variable). A download lands in a temporary file and is renamed into place
only once its hash matches, so a broken or tampered download never replaces a good file; files
already in place with the right hash are not fetched again. `--mirror URL` fetches every file by its
name from another place (an internal mirror, a local folder as file://...).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Optional

SHARED_ENV = "FLOWERS_SHARED"
REPO_ROOT = Path(__file__).resolve().parents[1]
KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications"


@dataclasses.dataclass(frozen=True)
class Source:
    """One file to download: where from, what its content must hash to, and where it goes in DEST."""

    url: str
    size: int
    algorithm: str  # "sha256" or "md5": whichever its publisher gives
    digest: Optional[str]  # None: the publisher gives no hash; only the size is checked
    dest: str  # path inside DEST

    @property
    def name(self) -> str:
        return os.path.basename(urllib.parse.urlparse(self.url).path)


PHOTOS = Source(  # size and sha256 as TensorFlow Datasets records them for tf_flowers
    url="https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
    size=228_813_984, algorithm="sha256",
    digest="4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c", dest="downloads/flower_photos.tgz")
WEIGHTS = (
    # Keras publishes no hash for this file (keras.applications.MobileNetV2 loads it unchecked).
    Source(url=f"{KERAS_WEIGHTS}/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
           size=9_406_464, algorithm="sha256", digest=None, dest="weights/mobilenet_v2_1.0_224_no_top.h5"),
    # The md5 keras.applications.Xception checks.
    Source(url=f"{KERAS_WEIGHTS}/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
           size=83_683_744, algorithm="md5", digest="b0042744bf5b25fce3cb969f33bebb97",
           dest="weights/xception_no_top.h5"),
)
IMAGE_SIZE = 192  # the public TFRecords' size (gs://flowers-public/tfrecords-jpeg-192x192-2)
SHARDS = 16


class FetchError(RuntimeError):
    """A download failed or does not match its published size or hash; nothing was replaced."""


def shared_dir() -> Path:
    """Where the tests and benchmarks read the photos and weights: $FLOWERS_SHARED, else ../shared."""
    return Path(os.environ.get(SHARED_ENV) or REPO_ROOT.parent / "shared")


def _digest(path: Path, algorithm: str) -> str:
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def _matches(path: Path, source: Source) -> bool:
    return (path.is_file() and path.stat().st_size == source.size
            and (source.digest is None or _digest(path, source.algorithm) == source.digest))


def download(source: Source, dest_root: Path, mirror: Optional[str] = None, log=print) -> Path:
    """`source` into DEST (or `mirror`/its file name), verified; kept when already in place and good."""
    target = dest_root / source.dest
    if _matches(target, source):
        log(f"{source.dest}: already in place")
        return target
    url = f"{mirror.rstrip('/')}/{source.name}" if mirror else source.url
    target.parent.mkdir(parents=True, exist_ok=True)
    log(f"{source.dest}: downloading {url}")
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".fetch-", delete=False) as partial:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                shutil.copyfileobj(response, partial, 1 << 20)
            partial.close()
            size = os.path.getsize(partial.name)
            if size != source.size:
                raise FetchError(f"{url}: {size:,} bytes, expected {source.size:,}; {source.dest} left as it was")
            if source.digest is not None:
                actual = _digest(Path(partial.name), source.algorithm)
                if actual != source.digest:
                    raise FetchError(f"{url}: {source.algorithm} {actual}, expected {source.digest}; "
                                     f"{source.dest} left as it was")
            os.replace(partial.name, target)
        except OSError as error:  # urllib's URLError and HTTPError are OSErrors
            raise FetchError(f"cannot download {url}: {getattr(error, 'reason', error)}") from error
        finally:
            if os.path.exists(partial.name):
                os.remove(partial.name)
    return target


def _extract_photos(archive: Path, workdir: Path) -> Path:
    """The archive's flower_photos/ folder (one sub-folder per class, LICENSE.txt), extracted safely."""
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")  # refuses absolute paths, links out of workdir, devices
    folders = [p for p in workdir.iterdir() if p.is_dir()]
    if len(folders) != 1:
        raise FetchError(f"{archive}: expected one top folder of class folders, found {len(folders)}")
    return folders[0]


def fetch(dest: Path, mirror: Optional[str] = None, photos: Source = PHOTOS,
          weights: tuple[Source, ...] = WEIGHTS, size: int = IMAGE_SIZE, shards: int = SHARDS, log=print) -> dict:
    """Downloads, verifies, converts and lays out the photos and weights under `dest`."""
    from data.convert import convert

    dest = Path(dest)
    files = [download(source, dest, mirror, log) for source in weights]
    with open(dest / "weights" / "SHA256SUMS", "w") as sums:
        sums.writelines(f"{_digest(path, 'sha256')}  {path.name}\n" for path in files)
    archive = download(photos, dest, mirror, log)
    flowers_dir = dest / "flowers"
    with tempfile.TemporaryDirectory(dir=dest) as workdir:
        photos_dir = _extract_photos(archive, Path(workdir))
        log(f"flowers/: converting {photos_dir.name} at {size} px")
        # Written beside, then swapped in: an interrupted conversion leaves the old records whole.
        staging = Path(workdir) / "flowers"
        result = convert(str(photos_dir), str(staging), size=size, shards=shards, progress=False)
        license_file = photos_dir / "LICENSE.txt"
        if license_file.exists():
            shutil.copy(license_file, staging / "LICENSE.txt")
        if flowers_dir.exists():
            shutil.rmtree(flowers_dir)
        shutil.move(str(staging), flowers_dir)
    return {"dest": str(dest), "records": result["total"], "counts": result["counts"],
            "skipped": len(result["skipped"]), "weights": [str(p) for p in files]}


def main(dest: Optional[str], mirror: Optional[str]) -> int:
    result = fetch(Path(dest) if dest else shared_dir(), mirror)
    print(f"{result['records']} photos as TFRecords in {result['dest']}/flowers "
          f"({', '.join(f'{k} {v}' for k, v in result['counts'].items())}); weights in {result['dest']}/weights",
          file=sys.stderr)
    return 0
