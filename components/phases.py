"""The fits of a Trainer run: training, then with fine_tune a second phase that also trains the top
of a transfer model's base. Each phase is one model.fit that early-stops on validation accuracy,
ends with its best weights, and resumes from its backup after an interruption (components/resume.py)."""
from __future__ import annotations

import dataclasses
import logging

import tensorflow as tf

import models
from components.resume import FitBackup
from models.schedules import ramp_callback

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Phase:
    """One model.fit: "training" (every model), then "fine-tuning" with --fine-tune."""

    name: str
    epochs: int
    learning_rate: float
    lr_ramp: dict | None = None


class EpochLog(tf.keras.callbacks.Callback):
    """One log line per epoch, which `flowers run` shows as live progress."""

    def __init__(self, phase: Phase, first_epoch: int = 0):
        super().__init__()
        self.label = "epoch" if phase.name == "training" else f"{phase.name} epoch"
        self.phase, self.first_epoch = phase, first_epoch

    def on_epoch_end(self, epoch, logs=None):
        metrics = " ".join(f"{k}={v:.4f}" for k, v in sorted((logs or {}).items()))
        log.info("%s %d/%d %s", self.label, epoch - self.first_epoch + 1, self.phase.epochs, metrics)


class EarlyStoppingFrom(tf.keras.callbacks.EarlyStopping):
    """Early stopping that starts from an earlier phase's best validation accuracy, with the weights the
    model has at the start: a phase that never beats it ends with those weights, not worse ones."""

    def __init__(self, best: float | None, first_epoch: int, **kwargs):
        super().__init__(**kwargs)
        self.earlier_best, self.first_epoch = best, first_epoch

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.earlier_best is not None:
            self.best, self.best_epoch = self.earlier_best, self.first_epoch - 1
            self.best_weights = self.model.get_weights()


def phases(hp: dict, config: dict) -> list[Phase]:
    """The fits of a run: training (the head alone on a frozen base for transfer models), then with
    fine_tune a second phase at the model's low fine-tuning learning rate."""
    # A model's LR ramp (xception) is its default schedule; an explicit --learning-rate replaces it.
    lr_ramp = hp.get("lr_ramp") if config.get("learning_rate") is None else None
    training = Phase("training", hp["epochs"], hp["learning_rate"], lr_ramp)
    if not hp["fine_tune"]:
        return [training]
    models.check_fine_tune(hp["model"])
    return [training, Phase("fine-tuning", hp["fine_tune_epochs"], hp["fine_tune_learning_rate"])]


def fit_phase(model: tf.keras.Model, phase: Phase, train_ds, validation_ds, hp: dict, log_dir: str,
              backup_dir: str | None, first_epoch: int = 0, earlier_best: float | None = None) -> dict:
    """One phase's model.fit, its epochs numbered on from `first_epoch`, resumed from its backup in
    `backup_dir` when an interrupted run left one there. Returns the phase's history (every epoch, those
    before an interruption included); the model ends with the phase's best weights on validation, or
    with the ones it started with if the phase never beat `earlier_best`."""
    early_stopping = EarlyStoppingFrom(earlier_best, first_epoch, monitor="val_accuracy",
                                       patience=hp["early_stopping_patience"], restore_best_weights=True, verbose=1)
    backup = FitBackup(backup_dir, early_stopping)
    state = backup.restore(model)
    if state and state["finished"]:
        log.info("%s finished before an interruption: its model restored from the backup in %s",
                 phase.name.capitalize(), backup_dir)
        return backup.history
    resume_at = state["epoch"] + 1 if state else first_epoch
    if state:
        log.info("Resuming %s at epoch %d/%d from its backup after epoch %d (%s)", phase.name,
                 resume_at - first_epoch + 1, phase.epochs, resume_at - first_epoch, backup_dir)
    callbacks = [tf.keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch", profile_batch=0),
                 early_stopping,
                 *([ramp_callback(**phase.lr_ramp)] if phase.lr_ramp else []),
                 backup,  # after early stopping, whose state it backs up; before the epoch's log line
                 EpochLog(phase, first_epoch)]
    model.fit(train_ds, validation_data=validation_ds, initial_epoch=resume_at, epochs=first_epoch + phase.epochs,
              callbacks=callbacks, verbose=0)
    return backup.history


def skip_autograph_of_tf_keras() -> None:
    """TensorFlow exempts `keras` from AutoGraph conversion but not its twin `tf_keras`, whose
    hundreds of functions it then converts at the first fit, for nothing: a minute for MobileNetV2
    on 2 cores (benchmarks/trainer.py --stock-keras leaves it out of the plain side, to measure it)."""
    try:
        from tensorflow.python.autograph.core import config  # private
        rules, rule = config.CONVERSION_RULES, config.DoNotConvert("tf_keras")
    except (ImportError, AttributeError):  # a speed-up only; TensorFlow moved its internals
        return
    if not any(str(r) == str(rule) for r in rules):
        config.CONVERSION_RULES = (rule, *rules)


def train(model: tf.keras.Model, hp: dict, run_phases: list[Phase], train_ds, validation_ds, log_dir: str,
          backups: str | None = None, strategy: tf.distribute.Strategy | None = None) -> dict[str, list]:
    """Every phase in turn (the model is compiled afresh for each); returns their joined history,
    with each epoch's phase under "phase". `backups`: the folder of this fit's backups, or None."""
    skip_autograph_of_tf_keras()
    strategy = strategy or tf.distribute.get_strategy()
    history: dict[str, list] = {}
    for phase in run_phases:
        with strategy.scope():
            if phase.name == "fine-tuning":
                models.unfreeze_top(hp["model"], model)
            model.compile(optimizer=tf.keras.optimizers.Adam(phase.learning_rate),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        done = len(history.get("loss", []))
        phase_history = fit_phase(model, phase, train_ds, validation_ds, hp, log_dir,
                                  backups and f"{backups}/{phase.name}", first_epoch=done,
                                  earlier_best=max(history["val_accuracy"]) if done else None)
        history = _joined(history, {**phase_history, "phase": [phase.name] * len(phase_history.get("loss", []))})
    return history


def _joined(first: dict[str, list], second: dict[str, list]) -> dict[str, list]:
    """Two phases' histories end to end; a metric only one phase has is None in the other's epochs."""
    lengths = [len(next(iter(h.values()), [])) for h in (first, second)]
    return {key: [*first.get(key, [None] * lengths[0]), *second.get(key, [None] * lengths[1])]
            for key in {**first, **second}}
