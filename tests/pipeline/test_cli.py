"""The `flowers` command as a user meets it: help, and argument errors before anything runs."""
import subprocess

import pytest

import models
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


def test_fine_tune_adds_a_second_phase_for_the_models_that_have_one(tmp_path, capsys):
    from components.phases import phases
    from components.trainer import resolve_hyperparameters

    def trainer_phases(*flags):
        args = cli.build_parser().parse_args(["run", "--data", str(tmp_path), *flags])
        config = cli.config_from_args(args).trainer_config()
        return [(phase.name, phase.epochs) for phase in phases(resolve_hyperparameters(config), config)]

    head_epochs = models.training_defaults("mobilenet_v2")["epochs"]
    assert trainer_phases("--model", "mobilenet_v2", "--fine-tune", "--fine-tune-epochs", "3") == [
        ("training", head_epochs), ("fine-tuning", 3)]
    assert trainer_phases("--model", "mobilenet_v2", "--no-fine-tune") == [("training", head_epochs)]
    # Refused before anything runs, naming the models that can.
    assert cli.main(["run", "--data", str(tmp_path), "--model", "convnet", "--fine-tune"]) == 1
    assert "convnet has no fine-tuning phase; --fine-tune applies to mobilenet_v2" in capsys.readouterr().err
