"""TFX module files and custom components: preprocessing_fn, run_fn, signatures, the gates.

Keras 2 (tf_keras) must be chosen before TensorFlow is first imported: TFX 1.16's Transform layer and
the Trainer need it. This is the one place the project sets it: executors import this package in
fresh processes (Beam workers, Kubeflow containers), and pipeline/ imports it first.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
