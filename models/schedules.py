"""Learning-rate ramp-up then exponential decay, for fine-tuning pretrained models.

Fine-tuning starts gently so large early gradients from the fresh head do not wreck the
pretrained features, then decays so the last epochs settle into a minimum.
"""
import tensorflow as tf


def lr_at(epoch: int, start_lr: float, max_lr: float, min_lr: float,
          ramp_epochs: int, sustain_epochs: int, decay: float) -> float:
    """Learning rate for a 0-based epoch: linear ramp, plateau, then exponential decay."""
    if epoch < ramp_epochs:
        return float(start_lr + (max_lr - start_lr) * epoch / ramp_epochs)
    if epoch < ramp_epochs + sustain_epochs:
        return float(max_lr)
    return float((max_lr - min_lr) * decay ** (epoch - ramp_epochs - sustain_epochs) + min_lr)


def ramp_callback(start_lr: float, max_lr: float, min_lr: float, ramp_epochs: int,
                  sustain_epochs: int, decay: float,
                  verbose: int = 1) -> tf.keras.callbacks.LearningRateScheduler:
    """Keras callback applying `lr_at`; keyword names match TRAINING_DEFAULTS[...]["lr_ramp"].

    verbose=1 by default so each epoch's LR shows up in the training log.
    """
    def schedule(epoch, _current_lr):
        return lr_at(epoch, start_lr, max_lr, min_lr, ramp_epochs, sustain_epochs, decay)

    return tf.keras.callbacks.LearningRateScheduler(schedule, verbose=verbose)
