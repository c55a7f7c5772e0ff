"""TFX module files: preprocessing_fn, run_fn, serving signatures, the eval config, the gate."""
import os

# Same reason as pipeline/__init__.py: executors import this package in fresh processes
# (Beam workers, Kubeflow containers) before TensorFlow loads.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
