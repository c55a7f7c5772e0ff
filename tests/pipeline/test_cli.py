"""The `flowers` command as a user meets it: help, and argument errors before anything runs."""
import subprocess

import pytest

from pipeline import cli
from tests.pipeline.runs import FLOWERS


def test_help_lists_the_subcommands():
    out = subprocess.run([FLOWERS, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("run", "data"):
        assert command in out
    data_help = subprocess.run([FLOWERS, "data", "--help"], capture_output=True, text=True, check=True).stdout
    assert "synth" in data_help and "convert" in data_help


@pytest.mark.parametrize("flags, message", [
    (["--model", "resnet"], "invalid choice: 'resnet' (choose from"),
    (["--epochs", "-1"], "below the minimum of 1"),
    (["--image-size", "16"], "below the minimum of 32"),
    (["--min-accuracy", "1.5"], "outside 0..1"),
    (["--patience", "0"], "below the minimum of 1"),
    (["--cache", "ram"], "invalid choice: 'ram' (choose from"),
])
def test_bad_flags_exit_2_with_the_valid_values(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flags, patience", [([], 10), (["--patience", "3"], 3)])
def test_patience_flag_reaches_the_trainer(tmp_path, flags, patience):
    from components.trainer import resolve_hyperparameters

    args = cli.build_parser().parse_args(["run", "--data", str(tmp_path), "--model", "squeezenet", *flags])
    assert resolve_hyperparameters(cli.config_from_args(args).trainer_config())["early_stopping_patience"] == patience


@pytest.mark.parametrize("model, flags, key, expected", [
    ("squeezenet", [], "random_crop", True), ("squeezenet", ["--no-random-crop"], "random_crop", False),
    ("convnet", [], "random_crop", False), ("convnet", ["--random-crop"], "random_crop", True),
    ("mobilenet_v2", [], "saturation", False), ("mobilenet_v2", ["--saturation"], "saturation", True),
    ("convnet", [], "saturation", True), ("convnet", ["--no-saturation"], "saturation", False),
])
def test_augmentation_follows_the_model_default_unless_a_flag_overrides_it(tmp_path, model, flags, key, expected):
    """Random crops: on for squeezenet only; saturation: off for mobilenet_v2 only."""
    from components.trainer import resolve_hyperparameters

    args = cli.build_parser().parse_args(["run", "--data", str(tmp_path), "--model", model, *flags])
    assert resolve_hyperparameters(cli.config_from_args(args).trainer_config())[key] is expected


@pytest.mark.parametrize("flags, cache", [([], "auto"), (["--cache", "disk"], "disk"), (["--cache", "none"], "none")])
def test_cache_flag_reaches_the_trainer(tmp_path, flags, cache):
    args = cli.build_parser().parse_args(["run", "--data", str(tmp_path), *flags])
    assert cli.config_from_args(args).trainer_config()["cache"] == cache
