"""Assembles the TFX components into one pipeline and hands it to a runner."""
import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before anything imports TensorFlow)
