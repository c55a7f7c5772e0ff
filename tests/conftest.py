"""Shared fixtures. TF_USE_LEGACY_KERAS must be set before any test module imports TensorFlow."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import components  # noqa: E402,F401  (sets TF_USE_LEGACY_KERAS before any test module imports TensorFlow)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from data.fetch import shared_dir  # noqa: E402

SHARED = shared_dir()  # ../shared beside the checkout, or $FLOWERS_SHARED (`make shared` fills it)


@pytest.fixture(scope="session")
def shared_flowers() -> Path:
    """The real flower photos as TFRecords (CI has them beside the checkout: never skipped)."""
    path = SHARED / "flowers"
    assert path.is_dir(), f"{path} is missing: tests read real photos from there: run `make shared`"
    return path


@pytest.fixture(scope="session")
def shared_weights() -> Path:
    path = SHARED / "weights"
    assert path.is_dir(), f"{path} is missing: tests read ImageNet weights from there: run `make shared`"
    return path


@pytest.fixture(scope="session")
def job_service(tmp_path_factory):
    """Beam's Python job service on a free localhost port, for the whole session (tests/job_service.py)."""
    from tests.job_service import JobService

    service = JobService(tmp_path_factory.mktemp("job_service"))
    yield service
    service.stop()
