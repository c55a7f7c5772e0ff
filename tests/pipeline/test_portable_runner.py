"""The whole pipeline on Beam's portable path, the one Flink, Spark and Dataflow take: every Beam step
is submitted as a job to Beam's own job service (a separate process on localhost) and a model is
pushed. The same run reads data as users keep it: GZIP records (.tfrec.gz), zero-padded span
folders, a folder whose name looks like a glob, and a folder beside the spans that is not one.

How the test knows every Beam step went through the service: the service's job API lists the jobs
it ran (GetJobs) and each job's pipeline (GetPipeline); each Beam step's pipeline holds transforms
that only that step builds, so each step must be found in exactly one finished job.
"""
import gzip
import os
import shutil

import pytest

from data import flowers
from tests.pipeline.runs import TINY_FLAGS, flowers_run

pytestmark = pytest.mark.e2e  # runs a whole pipeline

# A transform only that step's Beam pipeline holds (a prefix of its unique name).
STEP_TRANSFORMS = {
    "record files, before any step (data.records)": "CheckRecordFile",
    "ImportExampleGen": "InputToRecord",
    "RecordCheck": "CheckRecords",
    "StatisticsGen": "GenerateStatistics",
    "DriftStatisticsGen": "ImageStatistics",
    "Transform": "WriteTransformFn",
    "Evaluator": "ExtractEvaluateAndWriteResults",
}


def _gzip_copy(source: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(source, "rb") as src, gzip.open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)


@pytest.fixture(scope="module")
def portable_run(tmp_path_factory, tiny_data, job_service):
    data = tmp_path_factory.mktemp("portable") / "flowers [v2]"
    files = flowers.list_record_files(str(tiny_data))
    for span, chosen in (("span-01", files[:1]), ("span-02", files)):
        for path in chosen:
            _gzip_copy(path, str(data / span / (os.path.basename(path) + ".gz")))
    (data / "notes").mkdir()
    before = {job["id"] for job in job_service.jobs()}
    output = tmp_path_factory.mktemp("portable_out")
    proc, summary = flowers_run("--data", str(data), "--output", str(output), "--min-accuracy", "0", *TINY_FLAGS,
                                *(f"--beam-arg={arg}" for arg in job_service.beam_args))
    jobs = [job for job in job_service.jobs() if job["id"] not in before]
    return {"proc": proc, "summary": summary, "jobs": jobs, "data": data, "files": files}


def test_every_beam_step_ran_as_a_job_of_the_job_service(portable_run):
    jobs = portable_run["jobs"]
    assert all(job["state"] == "DONE" for job in jobs), jobs
    for step, marker in STEP_TRANSFORMS.items():
        holders = [job["id"] for job in jobs if any(t.startswith(marker) for t in job["transforms"])]
        assert len(holders) == 1, (step, holders, [sorted(job["transforms"])[:8] for job in jobs])
    assert len(jobs) == len(STEP_TRANSFORMS), [sorted(job["transforms"])[:5] for job in jobs]


def test_a_model_is_pushed(portable_run):
    summary = portable_run["summary"]
    assert all(c["state"] in ("complete", "cached") for c in summary["components"]), summary["components"]
    assert summary["pushed"] and os.path.isfile(os.path.join(summary["pushed_model_dir"], "saved_model.pb"))


def test_gzip_records_in_zero_padded_spans_in_a_bracketed_folder_are_read(portable_run):
    summary, stdout = portable_run["summary"], portable_run["proc"].stdout
    assert summary["spans"] == [2]  # span-02, the newest, found as 2 and read by its own name
    assert f"data: {len(portable_run['files'])} record files" in stdout  # span-02's only
    assert f"data warning: not read (only span-N/ folders are): {portable_run['data'] / 'notes'}" in stdout
