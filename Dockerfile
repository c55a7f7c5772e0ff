# The image every Kubeflow / Vertex AI step of the flowers pipeline runs (`flowers compile --image`):
# TFX's own image (Python 3.10) plus the project's code, which the compiled spec names by module
# path (components.entrypoint, components.trainer.run_fn, ...). No Docker engine was available
# where this was written: tests/kubeflow/test_image.py lints this file and runs its import check
# on a package compiled there; the build itself is untested.
FROM gcr.io/tfx-oss-public/tfx:1.16.0

# Keras 2 (tf_keras) for every process: TFX 1.16's Transform and the Trainer need it.
ENV TF_USE_LEGACY_KERAS=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /flowers

# requirements.lock is the development freeze, made on Python 3.11: a dozen of its pins require
# Python >= 3.11 and cannot install on this Python 3.10 image (see README, "Kubeflow Pipelines").
# So the steps keep the TFX image's own tested package set and take from the lock the versions of
# the project's direct runtime requirements, without their dependencies.
COPY requirements.lock ./
RUN grep -iE '^(tfx|tensorflow|tf[-_]keras|apache-beam|protobuf)==' requirements.lock > /tmp/pins.txt \
    && python -m pip install --no-deps -r /tmp/pins.txt

COPY pyproject.toml README.md ./
COPY pipeline/ pipeline/
COPY components/ components/
COPY models/ models/
COPY data/ data/
# Editable: the code and data/ stay under /flowers, where the compiled spec expects the embedded
# data and schema. Then the image proves it can run the pipeline: pip finds no broken requirement,
# and every module, executor class and function a freshly compiled package names imports here.
RUN python -m pip install --no-deps -e . \
    && python -m pip check \
    && flowers compile --pipeline-root gs://image-check/root --output /tmp/image-check.yaml \
    && python -m pipeline.image_check /tmp/image-check.yaml \
    && rm /tmp/image-check.yaml
