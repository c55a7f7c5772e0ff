"""Pick the best available tf.distribute strategy: TPU, then GPUs, then the default (CPU)."""
import logging

import tensorflow as tf

# TPUClusterResolver() with no arguments is tried even when `tpu` is None: measured at
# well under a millisecond on a plain machine (TensorFlow itself only checks TPU_NAME /
# KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS / TPU_CONFIG and raises ValueError; the GCE metadata
# server is only queried when one of those names a TPU). That keeps Colab/Cloud TPU VMs
# working with no flag, while this module never reads the environment itself.

# Seconds to wait for each TPU worker to answer. Measured here: pointing TensorFlow at a
# dead address (grpc://127.0.0.1:1) blocks for minutes and leaves the eager context
# unusable, and at an address where something else listens it aborts the whole process.
# So each worker is first asked, over plain gRPC, the same GetStatus call TensorFlow's
# connect starts with; only real TensorFlow servers answer it.
_PROBE_TIMEOUT_S = 5.0


def _unreachable_workers(resolver) -> list[str]:
    import grpc  # a TensorFlow dependency; imported late as only the TPU path needs it

    unreachable = []
    for tasks in resolver.cluster_spec().as_dict().values():
        for address in tasks.values() if isinstance(tasks, dict) else tasks:
            with grpc.insecure_channel(address) as channel:
                # No serializers: an empty byte string is a valid empty GetStatusRequest.
                get_status = channel.unary_unary("/tensorflow.WorkerService/GetStatus")
                try:
                    get_status(b"", timeout=_PROBE_TIMEOUT_S)
                except grpc.RpcError:
                    unreachable.append(address)
    return unreachable


def _try_tpu(tpu: str | None) -> tf.distribute.Strategy | None:
    try:
        if tpu is None:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        else:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu)
        unreachable = _unreachable_workers(resolver)
        if unreachable:
            raise ConnectionError(f"no TensorFlow server answering at {', '.join(unreachable)}")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except Exception as err:  # noqa: BLE001 - any failure just means "no usable TPU"
        logging.info("No TPU (%s): %s: %s", tpu or "auto-detect", type(err).__name__, err)
        return None


def choose_strategy(tpu: str | None = None) -> tuple[tf.distribute.Strategy, str]:
    """Return (strategy, kind) with kind one of "tpu", "gpu", "cpu"."""
    strategy = _try_tpu(tpu)
    if strategy is not None:
        return strategy, "tpu"
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy(), "gpu"
    return tf.distribute.get_strategy(), "cpu"


def mixed_precision_policy(kind: str) -> str:
    """Keras mixed-precision policy name suited to the accelerator kind."""
    # TPUs compute natively in bfloat16; GPU tensor cores want float16; CPUs gain nothing.
    policies = {"tpu": "mixed_bfloat16", "gpu": "mixed_float16", "cpu": "float32"}
    if kind not in policies:
        raise ValueError(f"unknown accelerator kind {kind!r}; expected one of {sorted(policies)}")
    return policies[kind]
