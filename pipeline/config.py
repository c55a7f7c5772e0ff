"""Every knob of a run, with its default, in one place. Built from flags, passed down."""
from __future__ import annotations

import dataclasses
import os
from typing import Optional

from components import input_cache
from data import flowers
from models import DEFAULT_MODEL

# Run-time parameters of a compiled pipeline (create_pipeline(..., runtime_parameters=True)): a run
# can change them without recompiling. TFX 1.16's KubeflowV2 compiler only honours a
# RuntimeParameter that is a component's whole exec property (one nested in a dict or proto is
# silently compiled as a serialized object), so the Trainer and Evaluator take whole JSON documents.
DATA_PARAM = "data"  # ImportExampleGen input_base: the records' directory
TRAINER_PARAM = "trainer_config"  # Trainer custom_config: TrainConfig as JSON (model, epochs, ...)
EVAL_PARAM = "eval_config"  # Evaluator eval_config: tfma.EvalConfig as JSON (min accuracy, ...)
ACCEPT_DRIFT_PARAM = "accept_drift"  # DriftGate accept_drift: 1 lets one run through a drift
# Under the pipeline root: backups of fits cut short, one folder per set of Trainer inputs
# (components/resume.py); each goes once its model is exported.
TRAINER_BACKUPS = "Trainer/backups"

@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """What the Trainer needs; sent to it whole as `custom_config` (None: the model's default)."""

    model: str = DEFAULT_MODEL
    image_size: int = 192
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    weights: Optional[str] = None
    augment: bool = True
    random_crop: Optional[bool] = None  # None: the model's default (on for squeezenet)
    saturation: Optional[bool] = None  # None: the model's default (off for mobilenet_v2)
    early_stopping_patience: Optional[int] = None  # None: the model's default, else 5
    # A second phase that trains the base's top blocks at a low learning rate (mobilenet_v2).
    fine_tune: Optional[bool] = None  # None: the model's default
    fine_tune_epochs: Optional[int] = None  # None: the model's default
    # Where decoded pixels stay between epochs: memory | disk | none, or auto (components.input_cache).
    cache: str = input_cache.AUTO
    seed: Optional[int] = None
    tpu: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Resources:
    """One Kubeflow step's container limits; None leaves the cluster's (or Vertex's) default."""

    cpu: Optional[float] = None  # cores
    memory_gb: Optional[float] = None
    # KFP: the Kubernetes resource ("nvidia.com/gpu", "google.com/tpu");
    # Vertex AI: its accelerator type ("NVIDIA_TESLA_T4", "TPU_V3").
    accelerator: Optional[str] = None
    accelerator_count: int = 0


@dataclasses.dataclass(frozen=True)
class KubeflowConfig:
    """Where and how `flowers compile` makes the pipeline run on Kubeflow Pipelines or Vertex AI."""

    # The Dockerfile's image, built and pushed where the cluster can pull it.
    image: str = "flowers-tfx:latest"
    # Every step writes its artifacts here directly (TensorFlow file systems), e.g. gs://BUCKET/flowers.
    pipeline_root: Optional[str] = None
    # Per step, by component id; "default" for every step not named. Beam uses `cpu` workers.
    resources: tuple[tuple[str, Resources], ...] = (
        ("default", Resources(cpu=2, memory_gb=8)),
        ("Transform", Resources(cpu=4, memory_gb=16)),
        ("Trainer", Resources(cpu=8, memory_gb=32)),
        ("Evaluator", Resources(cpu=4, memory_gb=16)),
    )

    def resources_for(self, component_id: str) -> Resources:
        table = dict(self.resources)
        return table.get(component_id, table.get("default", Resources()))


@dataclasses.dataclass(frozen=True)
class RunConfig:
    data: str = flowers.default_data_dir()
    output: str = "outputs"
    serving_dir: Optional[str] = None
    pipeline_name: str = "flowers"
    # Hash-bucket split of one folder of records, 7:1:2 by default: train gets `train_buckets` of
    # every `train + validation + eval` records. Given train/ and eval/ folders, validation is cut
    # from train/ as validation : train buckets (1 record in 8).
    train_buckets: int = 7
    validation_buckets: int = 1
    eval_buckets: int = 2
    # The curated schema (with the data's class names) judges the data against intent;
    # --infer-schema lets SchemaGen learn it.
    infer_schema: bool = False
    schema_file: str = flowers.schema_file()
    # How far a new span may drift from the data the served model was trained on (components/drift.py);
    # --accept-drift lets one run through past it.
    drift_schema_file: str = flowers.drift_schema_file()
    accept_drift: bool = False
    # True when `data` holds train/ and eval/ folders: use them as the splits instead of hashing.
    split_folders: bool = False
    # True when `data` holds span-1/, span-2/, ...: each run ingests the newest span.
    span_folders: bool = False
    # The digits of zero-padded span folders (span-01/: 2; 0 for span-1/): ImportExampleGen's {SPAN:N}.
    span_width: int = 0
    # Train and evaluate on the newest `spans` spans ingested so far (a rolling window).
    spans: int = 1
    min_accuracy: float = 0.5
    # A candidate may trail the last blessed model by at most this much accuracy.
    max_regression: float = 0.02
    # TensorFlow Lite models (float16, int8) beside the SavedModel, each pushed only when its eval
    # accuracy is at most `tflite_max_drop` below the SavedModel's (components/tflite_export.py).
    tflite: bool = True
    tflite_max_drop: float = 0.01
    beam_workers: int = os.cpu_count() or 1
    # Beam pipeline options for every Beam-powered step (--beam-arg); empty: the local choice of
    # pipeline.local.beam_args, or the compiled package's DirectRunner per step.
    beam_args: tuple[str, ...] = ()
    train: TrainConfig = TrainConfig()
    kubeflow: KubeflowConfig = KubeflowConfig()

    @property
    def serving_root(self) -> str:
        """Pushed versions land here, one timestamped folder each."""
        return self.serving_dir or os.path.join(self.output, "serving")

    def trainer_config(self, pipeline_root: Optional[str] = None) -> dict:
        """`custom_config` for the Trainer: JSON-friendly values only. With the pipeline root, also
        `backup_root`: where a fit cut short waits for the next run to resume it."""
        cfg = dataclasses.asdict(self.train)
        if pipeline_root:
            cfg["backup_root"] = f"{pipeline_root.rstrip('/')}/{TRAINER_BACKUPS}"
        return cfg
