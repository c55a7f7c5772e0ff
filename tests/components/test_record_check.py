"""RecordCheck's Beam transform on ExampleGen-shaped output: real photos pass; an image too large
(judged from its header), an image that does not decode and a class/label disagreement are each
named by split, position and label; the same on Beam's portable runner."""
import apache_beam as beam
import pytest

from components.record_check import find_bad_records, record_problems
from data import flowers
from tests.faults import huge_jpeg, relabelled, write_records
from tests.records import read_records

IN_PROCESS = ["--direct_running_mode=in_memory"]


def _splits(root, splits: dict) -> dict:
    """Each split's records as ExampleGen writes them: Split-<name>/ of GZIP files, the records of a
    split dealt over `files` files when given as a list of lists."""
    uris = {}
    for split, shards in splits.items():
        folder = root / f"Split-{split}"
        for n, records in enumerate(shards if isinstance(shards[0], list) else [shards]):
            write_records(folder / f"data_tfrecord-{n:05d}-of-{len(shards):05d}.gz", records, gzip=True)
        uris[split] = str(folder)
    return uris


def _check(tmp_path, splits, beam_args=IN_PROCESS):
    return find_bad_records(_splits(tmp_path / "examples", splits), flowers.CLASS_NAMES,
                            beam.Pipeline(argv=beam_args), str(tmp_path / "result"))


@pytest.fixture(scope="module")
def photos(shared_flowers):
    return [r["image"] for _, r in zip(range(4), read_records(str(shared_flowers / "flowers05-245.tfrec")))]


def test_real_photos_pass(tmp_path, photos):
    assert _check(tmp_path, {"train": [flowers.encode_example(p, k, 192, 192) for k, p in enumerate(photos)]}) == (4, [])


def test_each_bad_record_is_named_by_split_position_and_label(tmp_path, photos):
    good = flowers.encode_example(photos[0], 3, 192, 192)
    checked, bad = _check(tmp_path, {
        "train": [good, relabelled(good, b"tulips")],
        # Two files: positions count across them, in file order.
        "eval": [[flowers.encode_example(photos[1], 1, 192, 192), flowers.encode_example(photos[2][:200], 2, 192, 192)],
                 [flowers.encode_example(b"\x00\x01 not an image", 3, 192, 192),
                  flowers.encode_example(huge_jpeg(40000, 40000), 4, 192, 192)]]})
    assert checked == 6 and len(bad) == 4, bad
    assert bad[0] == "split 'train' record 1 (label 'tulips'): class 3 means 'sunflowers' but the label says 'tulips'"
    assert bad[1].startswith("split 'eval' record 1 (label 'roses'): image does not decode: ")
    assert bad[2].startswith("split 'eval' record 2 (label 'sunflowers'): image does not decode: ")
    # Refused from the header: decoding would have asked for 4.8 GB.
    assert bad[3] == ("split 'eval' record 3 (label 'tulips'): image is 40000×40000 pixels (1600 MP), over the "
                      "bound of 50 MP: decoded it would take 4.8 GB (resize it: `flowers data convert` does)")


def test_the_size_bound_reads_real_photo_headers(photos):
    # A real 192×192 photo: within a bound of its own size, over one a pixel smaller.
    assert record_problems(flowers.encode_example(photos[0], 0, 192, 192), flowers.CLASS_NAMES, 192 * 192) == ("daisy", [])
    _, problems = record_problems(flowers.encode_example(photos[0], 0, 192, 192), flowers.CLASS_NAMES, 192 * 192 - 1)
    assert problems and problems[0].startswith("image is 192×192 pixels")


def test_a_missing_image_is_named_not_crashed_on(tmp_path):
    def without_image(features):
        del features[flowers.IMAGE_KEY]
    from tests.faults import edited

    record = edited(flowers.encode_example(b"", 0, 8, 8), without_image)
    assert _check(tmp_path, {"train": [record]}) == (1, ["split 'train' record 0 (label 'daisy'): no image bytes"])


def test_class_names_come_from_the_caller_not_a_fixed_list(tmp_path, photos):
    record = flowers.encode_example(photos[0], 1, 192, 192, class_names=("cat", "dog"))
    _, bad = find_bad_records(_splits(tmp_path / "examples", {"train": [record]}), ["dog", "cat"],
                              beam.Pipeline(argv=IN_PROCESS), str(tmp_path / "result"))
    assert bad == ["split 'train' record 0 (label 'dog'): class 1 means 'cat' but the label says 'dog'"]


def test_on_the_portable_runner_a_corrupt_image_and_a_mislabelled_record_are_named(tmp_path, photos, job_service):
    before = {job["id"] for job in job_service.jobs()}
    good = flowers.encode_example(photos[0], 0, 192, 192)
    checked, bad = _check(tmp_path, {"train": [good, flowers.encode_example(photos[1][:300], 1, 192, 192)],
                                     "eval": [relabelled(good, b"roses")]}, beam_args=job_service.beam_args)
    assert checked == 3
    assert len(bad) == 2 and bad[0].startswith("split 'train' record 1 (label 'dandelion'): image does not decode: ")
    assert bad[1] == "split 'eval' record 0 (label 'roses'): class 0 means 'daisy' but the label says 'roses'"
    (job,) = [j for j in job_service.jobs() if j["id"] not in before]  # it ran there, and only there
    assert job["state"] == "DONE" and "CheckRecords/Judge" in job["transforms"], job
