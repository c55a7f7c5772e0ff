"""components.schema: the curated schema with the class list found with the data."""
import pytest
from tfx.utils import io_utils

from components.schema import FIVE_FLOWERS, schema_for_data
from data import flowers


def _labels(folder, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / flowers.LABELS_FILE).write_text("".join(f"{name}\n" for name in names))


def _names(data, span: int = 0) -> list[str]:
    return flowers.class_names(schema_for_data(flowers.schema_file(), str(data), span)[0])


def _features(schema) -> dict:
    return {f.name: f for f in schema.feature}


def test_without_a_labels_file_the_schema_is_the_curated_five_flowers():
    """The embedded set, the public records and ../shared/flowers hold no labels file."""
    schema, source = schema_for_data(flowers.schema_file(), flowers.default_data_dir())
    assert source == FIVE_FLOWERS
    assert schema == io_utils.SchemaReader().read(flowers.schema_file())
    assert flowers.class_names(schema) == list(flowers.CLASS_NAMES)


def test_a_labels_file_sets_the_label_domain_class_range_and_one_hot_length(tmp_path):
    _labels(tmp_path, "cat", "dog", "owl")
    schema, source = schema_for_data(flowers.schema_file(), str(tmp_path))
    assert source == str(tmp_path / flowers.LABELS_FILE)
    assert flowers.class_names(schema) == ["cat", "dog", "owl"]
    features = _features(schema)
    assert (features["class"].int_domain.min, features["class"].int_domain.max) == (0, 2)
    assert [d.size for d in features["one_hot_class"].shape.dim] == [3]
    # Everything else stays as curated.
    curated = _features(io_utils.SchemaReader().read(flowers.schema_file()))
    for name in ("image", "size"):
        assert features[name] == curated[name]


def test_the_span_folder_wins_over_the_data_root(tmp_path):
    _labels(tmp_path, "a", "b")
    _labels(tmp_path / "span-2", "a", "b", "c")
    (tmp_path / "span-1").mkdir()
    assert _names(tmp_path, span=2) == ["a", "b", "c"]
    assert _names(tmp_path, span=1) == ["a", "b"]  # the root's: span-1 has none


def test_train_and_eval_folders_must_agree(tmp_path):
    _labels(tmp_path / "train", "a", "b", "c")
    _labels(tmp_path / "eval", "a", "b", "c")
    assert _names(tmp_path) == ["a", "b", "c"]
    _labels(tmp_path / "eval", "a", "c")
    with pytest.raises(ValueError, match="list different classes"):
        _names(tmp_path)


@pytest.mark.parametrize("names", [("roses",), ("roses", "tulips", "roses")])
def test_a_labels_file_needs_two_distinct_names(tmp_path, names):
    _labels(tmp_path, *names)
    with pytest.raises(ValueError, match="at least two distinct class names"):
        schema_for_data(flowers.schema_file(), str(tmp_path))
