"""`flowers predict --model` on folders that are not this project's model: one line naming the
folder and what is wrong, exit 1, nothing loaded or predicted."""
import tensorflow as tf

from pipeline import cli
from tests.faults import jpeg


def _other_saved_model(path):
    """A real SavedModel, but another's: its serving_default takes floats named x."""
    module = tf.Module()
    module.double = tf.function(lambda x: {"y": 2 * x}, input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.double})


def _predict(tmp_path, model, capsys) -> str:
    photo = tmp_path / "flower.jpg"
    photo.write_bytes(jpeg())
    assert cli.main(["predict", "--model", str(model), "--output", str(tmp_path / "out"), str(photo)]) == 1
    captured = capsys.readouterr()
    assert "model:" not in captured.out  # nothing predicted
    return captured.err.strip().splitlines()[-1]


def test_another_saved_model_is_named_as_not_a_flowers_model(tmp_path, capsys):
    _other_saved_model(tmp_path / "other")
    assert _predict(tmp_path, tmp_path / "other", capsys) == (
        f"flowers predict: error: NotAModelError: {tmp_path / 'other'} is not a flowers model (no serving_default "
        "taking image bytes as 'image_bytes' and returning probabilities and class names)")


def test_a_broken_saved_model_pb_is_named(tmp_path, capsys):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "saved_model.pb").write_bytes(b"\x0a\xff\xff\xff not a protocol buffer")
    error = _predict(tmp_path, tmp_path / "broken", capsys)
    assert error.startswith(f"flowers predict: error: NotAModelError: cannot read {tmp_path / 'broken' / 'saved_model.pb'}: ")
