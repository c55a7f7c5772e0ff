"""A real run on records with a broken image stops before Transform, naming the record."""
import tensorflow as tf

from data import flowers
from tests.pipeline.runs import flowers_run


def test_undecodable_image_stops_the_run_before_transform(tmp_path, tiny_data):
    data = tmp_path / "data"
    data.mkdir()
    good = list(tf.data.TFRecordDataset(flowers.list_record_files(str(tiny_data))).take(20).as_numpy_iterator())
    with tf.io.TFRecordWriter(str(data / "broken00-21.tfrec")) as writer:
        for record in good:
            writer.write(record)
        writer.write(flowers.encode_example(b"\xff\xd8\xff truncated jpeg", 2, 64, 64))
    output = tmp_path / "out"
    proc, _ = flowers_run("--data", str(data), "--output", str(output), check=False)
    assert proc.returncode == 1
    error = proc.stderr[proc.stderr.index("flowers run: error:"):].splitlines()
    assert error[0].startswith("flowers run: error: UndecodableImagesError: 1 of 21 records have an image"), error
    assert "(label 'roses'): jpeg::Uncompress failed. Invalid JPEG data or crop window." in error[1], error
    assert "  ImageCheck ..." in proc.stdout and "Transform ..." not in proc.stdout
    assert not (output / "serving").exists()
