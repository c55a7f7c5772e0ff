"""Data in span-N/ folders: layout detection, ImportExampleGen's {SPAN} pattern, the rolling window
of spans, and the newest span as TFX resolves it (no pipeline run: see test_retrain.py for those)."""
import dataclasses
import re

import pytest
from tfx import v1 as tfx
from tfx.dsl.components.common.resolver import RESOLVER_CONFIG, RESOLVER_STRATEGY_CLASS
from tfx.dsl.input_resolution.strategies.span_range_strategy import SpanRangeStrategy

from data import flowers
from pipeline import cli, kubeflow, local, retrain
from pipeline.config import KubeflowConfig, RunConfig
from tests.pipeline.test_pipeline_dag import _components, _write_records


def _config(tmp_path, *argv):
    return cli.config_from_args(cli.build_parser().parse_args(["run", "--data", str(tmp_path), *argv]))


def test_flat_spans_are_read_newest_first_and_hash_split(tmp_path):
    for span in (1, 2, 10):
        _write_records(tmp_path / f"span-{span}" / "a.tfrec")
    config = _config(tmp_path)
    assert config.span_folders and not config.split_folders and config.spans == 1
    assert len(flowers.check_location(str(tmp_path))) == 3
    example_gen = _components(config)["ImportExampleGen"]
    assert '"pattern": "span-{SPAN}/*.tfrec*"' in example_gen.exec_properties["input_config"]
    assert '"hash_buckets": 7' in example_gen.exec_properties["output_config"]
    # The newest span as ImportExampleGen's own driver resolves it: by number, not by name.
    span, fingerprint = retrain.newest_data(config)
    assert span == 10 and fingerprint.startswith("split:single_split,num_files:1,")


def test_spans_with_train_and_eval_folders(tmp_path):
    for span in (1, 2):
        for split in flowers.SPLITS:
            _write_records(tmp_path / f"span-{span}" / split / "a.tfrec")
    config = _config(tmp_path)
    assert config.span_folders and config.split_folders
    input_config = _components(config)["ImportExampleGen"].exec_properties["input_config"]
    assert '"span-{SPAN}/train/*.tfrec*"' in input_config and '"span-{SPAN}/eval/*.tfrec*"' in input_config
    assert retrain.newest_data(config)[0] == 2


def test_folders_without_spans_keep_their_layout(tmp_path):
    _write_records(tmp_path / "a.tfrec")
    assert not _config(tmp_path).span_folders
    assert '"pattern": "*.tfrec*"' in _components(_config(tmp_path))["ImportExampleGen"].exec_properties["input_config"]
    assert retrain.newest_data(_config(tmp_path))[0] == 0  # TFX's span of data without a {SPAN}


def test_a_window_of_spans_feeds_transform_and_evaluator_and_the_gates_judge_the_new_span(tmp_path):
    _write_records(tmp_path / "span-1" / "a.tfrec")
    components = _components(_config(tmp_path, "--spans", "3"))
    window = components["span_window_resolver"]
    assert window.exec_properties[RESOLVER_STRATEGY_CLASS] is SpanRangeStrategy
    assert window.exec_properties[RESOLVER_CONFIG]["range_config"].rolling_range.num_spans == 3
    # Every span ImportExampleGen ingested, in any run: not just this run's output channel.
    channel = window.raw_inputs["examples"]
    assert type(channel) is tfx.dsl.Channel and channel.producer_component_id == "ImportExampleGen"
    assert components["ImportExampleGen"] in window.upstream_nodes
    for consumer in ("Transform", "Evaluator"):
        assert window in components[consumer].upstream_nodes, consumer
    for gate_input in ("StatisticsGen", "RecordCheck"):
        assert window not in components[gate_input].upstream_nodes, gate_input
    assert "span_window_resolver" not in _components(_config(tmp_path))  # --spans 1: no window


def test_a_window_needs_span_folders_and_does_not_compile_for_kubeflow(tmp_path):
    _write_records(tmp_path / "a.tfrec")
    with pytest.raises(ValueError, match="--spans 2 needs data in span-N/ folders"):
        _components(_config(tmp_path, "--spans", "2"))
    config = RunConfig(data="gs://bucket/records", span_folders=True, spans=2,
                       kubeflow=KubeflowConfig(pipeline_root="gs://bucket/root"))
    with pytest.raises(ValueError, match="--spans 2: a rolling window of spans does not compile for Kubeflow"):
        kubeflow.cluster_config(config)
    assert kubeflow.cluster_config(dataclasses.replace(config, spans=1)).data == "gs://bucket/records"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["retrain", "--spans", "0"])


def test_retrain_on_an_output_root_with_no_runs_has_new_data(tmp_path):
    _write_records(tmp_path / "data" / "span-3" / "a.tfrec")
    check = retrain.check_new_data(_config(tmp_path / "data"), str(tmp_path / "out" / "metadata.sqlite"))
    assert check == {"new_data": True, "newest_span": 3, "baseline_spans": None,
                     "reason": "span 3 has not been evaluated yet"}


def test_zero_padded_spans_are_read_by_their_own_names(tmp_path):
    for span in ("01", "02", "10"):
        _write_records(tmp_path / f"span-{span}" / "a.tfrec")
    config = _config(tmp_path)
    assert config.span_folders and config.span_width == 2
    assert '"pattern": "span-{SPAN:2}/*.tfrec*"' in _components(config)["ImportExampleGen"].exec_properties["input_config"]
    assert retrain.newest_data(config)[0] == 10
    assert local.ingested_files(config) == [str(tmp_path / "span-10" / "a.tfrec")]


@pytest.mark.parametrize("folders, named", [
    (("span-1", "span-x"), "must be named span-N, N a whole number; not so: span-x"),
    (("span-01", "span-2"), "mix zero-padded and other widths (span-01, span-2)"),
])
def test_span_folders_tfx_cannot_number_are_refused_by_name(tmp_path, capsys, folders, named):
    for folder in folders:
        _write_records(tmp_path / "data" / folder / "a.tfrec")
    with pytest.raises(flowers.DataLocationError, match=re.escape(named)):
        flowers.check_location(str(tmp_path / "data"))
    # The command: one line naming the folder, exit 1, no output root or run touched.
    assert cli.main(["run", "--data", str(tmp_path / "data"), "--output", str(tmp_path / "out")]) == 1
    assert f"flowers run: error: DataLocationError: span folders in {tmp_path / 'data'}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_what_sits_beside_the_spans_is_named_as_not_read(tmp_path):
    _write_records(tmp_path / "span-1" / "a.tfrec")
    _write_records(tmp_path / "stray.tfrec")
    (tmp_path / "old").mkdir()
    warnings = []
    assert flowers.check_location(str(tmp_path), warn=warnings.append) == [str(tmp_path / "span-1" / "a.tfrec")]
    assert warnings == [f"not read (only span-N/ folders are): {tmp_path / 'old'}, {tmp_path / 'stray.tfrec'}"]


def test_the_most_specific_message_of_a_tfx_error_chain_is_shown(tmp_path):
    """TFX's own span error, raised while handling int()'s, over the bare int() error."""
    from tfx.components.example_gen import utils

    from pipeline import errors

    _write_records(tmp_path / "span-x" / "a.tfrec")
    with pytest.raises(ValueError) as raised:
        utils.calculate_splits_fingerprint_span_and_version(
            str(tmp_path), [tfx.proto.Input.Split(name="all", pattern="span-{SPAN}/*")])
    assert "invalid literal for int()" in str(errors.chain(raised.value)[-1])
    assert errors.describe(raised.value).startswith(f"ValueError: Cannot find span number from {tmp_path}/span-x/a.tfrec")
