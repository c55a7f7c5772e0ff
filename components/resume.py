"""Resuming a fit that an interruption cut short (a killed process, a lost machine, a preempted VM).

Each finished epoch is backed up in one TensorFlow checkpoint: weights and optimizer (as Keras'
BackupAndRestore does), plus what that callback leaves out and a resumed fit needs to end as an
uninterrupted one would: the history so far and early stopping's state with its best weights.
TFX gives every Trainer execution a new model_run folder, so the backup lives in a folder keyed by
the Trainer's inputs instead (`backup_dir`), under the pipeline root: the next run of the same
pipeline on the same data and settings finds it. A finished phase stays there as such, so that a
run interrupted in fine-tuning does not train the head again; the Trainer removes the folder once
the model is exported.
"""
from __future__ import annotations

import hashlib
import json
import logging

import tensorflow as tf

log = logging.getLogger(__name__)


def backup_dir(root: str | None, fn_args, model: tf.keras.Model) -> str | None:
    """The folder of this fit's backup under `root` (None: no backups), named by a hash of what
    the Trainer trains on and with: its examples, transform graph and config, and the shapes of
    the model's weights (so a changed architecture never meets an old backup)."""
    if not root:
        return None
    inputs = {
        "train": sorted(fn_args.train_files), "eval": sorted(fn_args.eval_files),
        "transform_graph": fn_args.transform_graph_path, "config": fn_args.custom_config,
        "weights": [w.shape.as_list() for w in model.weights],
    }
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{root.rstrip('/')}/{key}"


def remove(directory: str | None) -> None:
    if directory and tf.io.gfile.exists(directory):
        tf.io.gfile.rmtree(directory)


class FitBackup(tf.keras.callbacks.Callback):
    """Backs one model.fit up at the end of every epoch in `directory` (None: only keeps the
    history), and marks it finished at the end of the fit, its best weights restored.

    Call `restore` after compiling the model and before fit; list this callback after the
    EarlyStopping it backs up (whose state it reinstates after that callback resets it) and
    before any callback that reports the epoch (it is backed up by then).
    """

    def __init__(self, directory: str | None, early_stopping: tf.keras.callbacks.EarlyStopping):
        super().__init__()
        self.directory = directory
        self.early_stopping = early_stopping
        self.history: dict[str, list] = {}
        self._resumed: dict | None = None
        self._manager = None
        self._best_weights: list[tf.Variable] = []
        self._best_epoch_saved: int | None = None
        self._epoch = -1  # the last finished epoch
        self._state = tf.Variable("", dtype=tf.string, trainable=False)

    def restore(self, model: tf.keras.Model) -> dict | None:
        """Loads the backup into `model` (and its optimizer); returns its state, None without one:
        {"epoch": the last finished epoch (0-based), "finished": bool, "history": {...}, ...}."""
        if not self.directory:
            return None
        self._best_weights = [tf.Variable(w, trainable=False) for w in model.get_weights()]
        checkpoint = tf.train.Checkpoint(model=model, state=self._state, best_weights=self._best_weights)
        self._manager = tf.train.CheckpointManager(checkpoint, self.directory, max_to_keep=1)
        if not self._manager.latest_checkpoint:
            return None
        # Optimizer slots are created at the first step and take their backed-up values then; a
        # finished fit's optimizer is never used again (expect_partial: no warning about it).
        checkpoint.restore(self._manager.latest_checkpoint).expect_partial()
        state = json.loads(self._state.numpy().decode())
        self.history, self._epoch, self._resumed = state["history"], state["epoch"], state
        return state

    def on_train_begin(self, logs=None):
        if self._resumed:
            early, saved = self.early_stopping, self._resumed["early_stopping"]
            early.wait, early.best, early.best_epoch = saved["wait"], saved["best"], saved["best_epoch"]
            if saved["has_best_weights"]:
                early.best_weights = [w.numpy() for w in self._best_weights]
            self._best_epoch_saved = early.best_epoch

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self._epoch = epoch
        self._save(finished=False)

    def on_train_end(self, logs=None):
        self._save(finished=True)

    def _save(self, finished: bool) -> None:
        if not self._manager:
            return
        early = self.early_stopping
        has_best = early.best_weights is not None
        if has_best and early.best_epoch != self._best_epoch_saved:
            for variable, value in zip(self._best_weights, early.best_weights):
                variable.assign(value)
            self._best_epoch_saved = early.best_epoch
        self._state.assign(json.dumps({
            "epoch": self._epoch, "finished": finished, "history": self.history,
            "early_stopping": {"wait": early.wait, "best": float(early.best), "best_epoch": early.best_epoch,
                               "has_best_weights": has_best},
        }))
        self._manager.save()
