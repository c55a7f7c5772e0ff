"""`flowers data convert` on real photos, read back (single file, folder, glob)."""
from data import flowers
from pipeline import cli
from tests.records import read_records


def test_convert_real_photos_then_read_them_back(tmp_path, shared_flowers, capsys):
    source = tmp_path / "photos"
    originals = []
    for k, record in zip(range(10), read_records(str(shared_flowers / "flowers03-245.tfrec"))):
        folder = source / record["label"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"photo{k}.jpg").write_bytes(record["image"])
        originals.append(record["label"])
    out = tmp_path / "records"
    assert cli.main(["data", "convert", str(source), str(out), "--size", "64", "--shards", "2"]) == 0
    names = sorted(set(originals))  # the class folders, numbered in sorted order
    printed = capsys.readouterr().out
    assert "wrote 10 records" in printed and f"{len(names)} classes ({', '.join(names)})" in printed
    assert flowers.read_labels_file(flowers.labels_file(str(out))) == names
    records = list(read_records(str(out)))
    assert sorted(r["label"] for r in records) == sorted(originals)
    assert all(r["size"] == (64, 64) and names[r["class"]] == r["label"] for r in records)
    one_file = flowers.list_record_files(str(out))[0]
    assert 0 < len(list(read_records(one_file))) < 10  # a single file is a valid --data too
    assert len(list(read_records(str(out / "*.tfrec")))) == 10


def test_convert_of_an_empty_folder_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["data", "convert", str(tmp_path / "empty"), str(tmp_path / "out")]) == 1
    assert "error" in capsys.readouterr().err
