"""The record-file check on real files: whole ones pass, a cut or a flipped byte is named with the
file, the byte offset and "truncated" or "corrupt"; GZIP files are recognised and read."""
import gzip
import shutil

import pytest
import tensorflow as tf

from data import flowers, records
from data.records import RecordFileError
from tests.faults import flip_byte, record_offsets, truncate, write_records


@pytest.fixture(scope="module")
def photos(shared_flowers) -> list[bytes]:
    """12 real records (public layout, real JPEG photos)."""
    files = flowers.list_record_files(str(shared_flowers))
    return list(tf.data.TFRecordDataset(files[:1]).take(12).as_numpy_iterator())


def _shards(folder, photos, gzipped=False):
    """Three shards of four records: shard-0, shard-1, shard-2."""
    suffix = ".tfrec.gz" if gzipped else ".tfrec"
    return [write_records(folder / f"shard-{i}{suffix}", photos[4 * i:4 * i + 4], gzip=gzipped) for i in range(3)]


@pytest.mark.parametrize("gzipped", [False, True])
def test_whole_files_pass_and_read_as_tensorflow_reads_them(tmp_path, photos, gzipped):
    files = [str(f) for f in _shards(tmp_path, photos, gzipped)]
    records.check_files(files)
    assert [records.compression(f) for f in files] == ["GZIP" if gzipped else ""] * 3
    ours = [data for f in files for _, data in records.iter_records(f)]
    assert ours == photos
    compression = records.compression(files[0])
    assert ours == list(tf.data.TFRecordDataset(files, compression_type=compression).as_numpy_iterator())


def test_a_truncated_shard_that_is_not_the_first_is_named_with_its_offset(tmp_path, photos):
    files = _shards(tmp_path, photos)
    third = record_offsets(files[1])[2]
    truncate(files[1], third + 1000)  # cut inside the third record
    with pytest.raises(RecordFileError) as error:
        records.check_files([str(f) for f in files])
    message = str(error.value)
    assert message.startswith("1 of 3 record files are damaged"), message
    assert f"{files[1]}: truncated at byte {third} (record 2): the file ends " in message, message


def test_a_flipped_byte_is_corrupt_at_its_record(tmp_path, photos):
    files = _shards(tmp_path, photos)
    offsets = record_offsets(files[2])
    flip_byte(files[2], offsets[3] + 500)  # inside the fourth record's data
    flip_byte(files[0], 3)  # inside the first record's length
    with pytest.raises(RecordFileError) as error:
        records.check_files([str(f) for f in files])
    lines = str(error.value).splitlines()
    assert lines[0].startswith("2 of 3 record files are damaged"), lines
    assert lines[1] == (f"  {files[0]}: corrupt at byte 0 (record 0): the record length does not match its "
                        "checksum (not a TFRecord file, or damaged)")
    assert lines[2].startswith(f"  {files[2]}: corrupt at byte {offsets[3]} (record 3): the ")
    assert lines[2].endswith("bytes of the record do not match their checksum")


def test_files_that_are_not_tfrecords(tmp_path, photos):
    photo = tmp_path / "photo.tfrec"
    photo.write_bytes(flowers.decode_example(photos[0])[flowers.IMAGE_KEY])
    with pytest.raises(RecordFileError, match=r"photo.tfrec: corrupt at byte 0 \(record 0\): the record length"):
        records.check_files([str(photo)])


def test_gzip_files_are_told_apart_by_their_bytes_and_named_when_their_name_disagrees(tmp_path, photos):
    (plain,) = _shards(tmp_path, photos[:4])[:1]
    hidden = tmp_path / "hidden-gzip.tfrec"
    with open(plain, "rb") as src, gzip.open(hidden, "wb") as dst:
        shutil.copyfileobj(src, dst)
    fake = tmp_path / "fake.tfrec.gz"
    shutil.copy(plain, fake)
    with pytest.raises(RecordFileError) as error:
        records.check_files([str(hidden), str(fake)])
    message = str(error.value)
    assert f"{fake}: corrupt at byte 0 (record 0): named .gz, but not GZIP-compressed" in message
    assert f"{hidden}: corrupt at byte 0 (record 0): GZIP-compressed, but its name does not end in .gz" in message


def test_a_truncated_gzip_shard_is_named(tmp_path, photos):
    files = _shards(tmp_path, photos, gzipped=True)
    truncate(files[2], files[2].stat().st_size // 2)
    with pytest.raises(RecordFileError, match=rf"{files[2]}: truncated at byte \d+ of the decompressed stream "
                                              r"\(record \d\): the GZIP stream ends early"):
        records.check_files([str(f) for f in files])


def test_the_beam_check_names_the_same_files(tmp_path, photos):
    files = _shards(tmp_path / "data", photos)
    records.check_files_with_beam([str(f) for f in files], ["--direct_running_mode=in_memory"])
    truncate(files[1], 100)
    with pytest.raises(RecordFileError, match=rf"1 of 3 record files are damaged.*\n  {files[1]}: truncated at byte 0"):
        records.check_files_with_beam([str(f) for f in files], ["--direct_running_mode=in_memory"])
