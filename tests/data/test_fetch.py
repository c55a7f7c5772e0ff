"""`flowers data fetch` against a mirror on localhost: downloads verified, photos converted, laid out
as the tests read them, and a bad download never replaces a good file."""
import functools
import hashlib
import http.server
import io
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from data import fetch
from tests.pipeline.runs import FLOWERS, user_env
from tests.records import read_records

CLASSES = ("daisy", "roses")
PER_CLASS = 6


@pytest.fixture(scope="module")
def mirror(tmp_path_factory, shared_flowers):
    """A folder served over HTTP on localhost, holding a small flower_photos.tgz built from real
    photos, a duplicate photo filed under both classes, and two stand-in weight files."""
    root = tmp_path_factory.mktemp("mirror")
    photos = {name: [] for name in CLASSES}
    for record in read_records(str(shared_flowers)):
        if record["label"] in photos and len(photos[record["label"]]) < PER_CLASS:
            photos[record["label"]].append(record["image"])
    archive = root / "flower_photos.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"flower_photos/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for label, images in photos.items():
            for k, jpeg in enumerate(images):
                add(f"{label}/{k}.jpg", jpeg)
        add("roses/same-as-daisy-0.jpg", photos["daisy"][0])  # one photo under two classes
        add("LICENSE.txt", b"photo credits\n")
    weights = {"w1.h5": b"\x89HDF" + bytes(range(200)), "w2.h5": b"\x89HDF" + bytes(300)}
    for name, data in weights.items():
        (root / name).write_bytes(data)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"root": root, "url": f"http://127.0.0.1:{server.server_port}", "server": server,
           "archive": archive, "weights": weights}
    server.shutdown()


def source(path: Path, dest: str, algorithm="sha256", digest=None) -> fetch.Source:
    data = path.read_bytes()
    return fetch.Source(url=f"https://origin.invalid/{path.name}", size=len(data), algorithm=algorithm,
                        digest=digest or hashlib.new(algorithm, data).hexdigest(), dest=dest)


def test_fetch_lays_out_verified_weights_and_converted_photos(mirror, tmp_path):
    weights = (source(mirror["root"] / "w1.h5", "weights/a.h5", "md5"), source(mirror["root"] / "w2.h5", "weights/b.h5"))
    photos = source(mirror["archive"], "downloads/flower_photos.tgz")
    lines = []
    result = fetch.fetch(tmp_path, mirror["url"], photos, weights, size=64, shards=2, log=lines.append)

    assert (tmp_path / "weights" / "a.h5").read_bytes() == mirror["weights"]["w1.h5"]
    sums = (tmp_path / "weights" / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(mirror['weights']['w2.h5']).hexdigest()}  b.h5" in sums
    assert (tmp_path / "flowers" / "LICENSE.txt").read_text() == "photo credits\n"
    records = list(read_records(str(tmp_path / "flowers")))
    assert sorted({r["label"] for r in records}) == list(CLASSES)
    assert {r["size"] for r in records} == {(64, 64)}
    assert result["records"] == len(records) == 2 * PER_CLASS + 1
    assert not list(tmp_path.glob("**/.fetch-*")), "no partial download is left behind"

    # Everything in place and good: a second fetch downloads nothing (the server is not needed).
    again = []
    fetch.fetch(tmp_path, "http://127.0.0.1:9", photos, weights, size=64, shards=2, log=again.append)
    assert all("already in place" in line for line in again if "downloading" in line or "in place" in line)
    assert not any("downloading" in line for line in again)


def test_a_download_that_does_not_match_its_hash_replaces_nothing(mirror, tmp_path):
    good = source(mirror["root"] / "w1.h5", "weights/a.h5")
    fetch.download(good, tmp_path, mirror["url"], log=lambda line: None)
    tampered = fetch.Source(url=good.url, size=good.size, algorithm="sha256", digest="0" * 64, dest=good.dest)
    with pytest.raises(fetch.FetchError, match=r"w1\.h5: sha256 [0-9a-f]{64}, expected 0{64}; weights/a\.h5 left"):
        fetch.download(tampered, tmp_path, mirror["url"], log=lambda line: None)
    wrong_size = fetch.Source(url=good.url, size=good.size + 1, algorithm="sha256", digest=None, dest="weights/c.h5")
    with pytest.raises(fetch.FetchError, match="bytes, expected"):
        fetch.download(wrong_size, tmp_path, mirror["url"], log=lambda line: None)
    assert (tmp_path / "weights" / "a.h5").read_bytes() == mirror["weights"]["w1.h5"]
    assert not (tmp_path / "weights" / "c.h5").exists()
    assert sorted(p.name for p in (tmp_path / "weights").iterdir()) == ["a.h5"]


def test_the_command_names_the_file_a_mirror_gets_wrong(mirror, tmp_path):
    """The real table of sources against a mirror that has none of the real files."""
    proc = subprocess.run([FLOWERS, "data", "fetch", "--dest", str(tmp_path), "--mirror", mirror["root"].as_uri()],
                          capture_output=True, text=True, env=user_env(), timeout=120)
    assert proc.returncode == 1
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in proc.stderr
    assert not list(tmp_path.glob("weights/*.h5"))
