"""Assembles the TFX components into one pipeline and hands it to a runner."""
import os

# Keras 2 (tf_keras) must be chosen before TensorFlow is first imported, in this process and in
# the Beam workers it starts (they inherit the environment). TFX 1.16's Transform layer needs it.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
