"""The `flowers` command as a user meets it: help, and argument errors before anything runs."""
import subprocess
import sys
from pathlib import Path

import pytest

import models
from pipeline import cli
from tests.pipeline.runs import user_env

ROOT = Path(__file__).resolve().parents[2]


# Every command's --help, in one fresh interpreter, then which heavy packages that loaded.
HELP_OF_EVERY_COMMAND = """
import argparse, contextlib, io, sys
from pipeline import cli

def commands(parser, prefix=()):
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, prefix + (name,))

for command in commands(cli.build_parser()):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            cli.main([*command, "--help"])
        except SystemExit as exit_:
            assert exit_.code == 0, (command, exit_.code)
    assert out.getvalue().startswith("usage: flowers"), command
print(" ".join(sorted({"tensorflow", "tfx", "apache_beam", "kfp"} & set(sys.modules))) or "none")
"""


def test_every_help_answers_without_loading_tensorflow():
    """Help text that argparse cannot format fails only when a user asks for it; and help must
    not wait for TensorFlow, TFX, Beam or KFP to load."""
    proc = subprocess.run([sys.executable, "-c", HELP_OF_EVERY_COMMAND], capture_output=True, text=True,
                          env=user_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["none"]


@pytest.mark.parametrize("flags, message", [
    (["--model", "resnet"], "invalid choice: 'resnet' (choose from"),
    (["--epochs", "-1"], "below the minimum of 1"),
    (["--image-size", "16"], "below the minimum of 32"),
    (["--min-accuracy", "1.5"], "outside 0..1"),
    (["--patience", "0"], "below the minimum of 1"),
    (["--image-size", "100000"], "argument --image-size: 100000 is above the maximum of 1024"),
    (["--learning-rate", "-1"], "argument --learning-rate: -1 is outside (0, 1]"),
    (["--learning-rate", "nan"], "argument --learning-rate: nan is outside (0, 1]"),
    (["--learning-rate", "0"], "argument --learning-rate: 0 is outside (0, 1]"),
    (["--data", ""], "argument --data: is empty"),
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


def test_a_library_error_is_cut_to_one_readable_line(tmp_path):
    """What ImportExampleGen printed for a damaged shard: Beam's TFRecord reader quoting the
    record in hex, kilobytes of it. A library's message is cut to its first line."""
    import apache_beam as beam

    from pipeline import errors
    from tests.faults import truncate, write_records

    shard = write_records(tmp_path / "a.tfrec", [b"x" * 5000])
    truncate(shard, 3000)
    with pytest.raises(Exception) as raised:
        with beam.Pipeline(argv=["--direct_running_mode=in_memory"]) as pipeline:
            _ = pipeline | beam.io.ReadFromTFRecord(str(shard))
    assert len(str(raised.value)) > 4000  # the hex
    line = errors.describe(raised.value)
    assert line.startswith("ValueError: Not a valid TFRecord. Fewer than 5004 bytes: b'"), line
    assert len(line) <= len("ValueError: ") + errors.MAX_FOREIGN_CHARS + 4 and "\n" not in line


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


@pytest.mark.parametrize("flags, cache", [([], "auto"), (["--cache", "disk"], "disk"), (["--cache", "none"], "none")])
def test_cache_flag_reaches_the_trainer(tmp_path, flags, cache):
    args = cli.build_parser().parse_args(["run", "--data", str(tmp_path), *flags])
    assert cli.config_from_args(args).trainer_config()["cache"] == cache


def test_the_command_skips_only_the_interpreters_finalization(tmp_path):
    """After its work the command ends the process at once: exit handlers (the Trainer's cache
    folders' removal, temporary folders) still run, output is flushed, the exit code is kept."""
    script = ("import atexit, sys, tempfile, weakref\n"
              "from pipeline import cli\n"
              f"atexit.register(lambda: open({str(tmp_path / 'handler')!r}, 'w').write('ran'))\n"
              f"folder = tempfile.mkdtemp(dir={str(tmp_path)!r})\n"
              "class Cache: pass\n"
              "cache = Cache()\n"
              "weakref.finalize(cache, __import__('shutil').rmtree, folder)\n"
              "print('summary, unflushed', end='')\n"
              "cli._exit_without_finalizing(3)\n"
              "print('never')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "summary, unflushed"
    assert (tmp_path / "handler").read_text() == "ran"
    assert [p.name for p in tmp_path.iterdir()] == ["handler"]  # the finalizer removed the folder
