"""The drift gate in real runs. The shared tiny run pushed a model with the statistics of its data;
a span of the same photos darkened then stops before Transform naming brightness, and the same
span with --accept-drift trains and pushes, its own statistics beside the new version."""
import io
import shutil

import pytest

from components import drift
from data import flowers
from pipeline.report import write_report
from pipeline.summary import read_summary
from tests.pipeline.runs import TINY_FLAGS, flowers_run
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines


def _write_dark_copy(source, target, factor: float = 0.3) -> None:
    import tensorflow as tf
    from PIL import Image

    target.mkdir(parents=True)
    for path in flowers.list_record_files(str(source)):
        with tf.io.TFRecordWriter(str(target / path.rsplit("/", 1)[-1])) as writer:
            for r in read_records(path):
                buffer = io.BytesIO()
                Image.open(io.BytesIO(r["image"])).convert("RGB").point(lambda v: int(v * factor)).save(buffer, "JPEG")
                writer.write(flowers.encode_example(buffer.getvalue(), r["class"], *r["size"]))


@pytest.fixture(scope="module")
def drifted(tiny_run, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("drift_run")
    serving = root / "serving"  # a copy: the shared run's serving folder stays as it was
    shutil.copytree(tiny_run["output"] / "serving", serving)
    _write_dark_copy(tiny_run["data"], root / "dark")
    flags = ["--data", str(root / "dark"), "--output", str(root / "out"), "--serving-dir", str(serving),
             "--min-accuracy", "0", *TINY_FLAGS, "--epochs", "1", "--no-tflite"]
    versions_before = sorted(p.name for p in serving.iterdir())
    stopped, _ = flowers_run(*flags, check=False)
    stopped_summary = read_summary(str(root / "out" / "metadata.sqlite"), "flowers")
    report = write_report(str(root / "out"), str(root / "report"))
    versions_after_stop = sorted(p.name for p in serving.iterdir())
    _, accepted = flowers_run(*flags, "--accept-drift")
    return {"stopped": stopped, "stopped_summary": stopped_summary, "accepted": accepted, "serving": serving,
            "versions_before": versions_before, "versions_after_stop": versions_after_stop, "output": root / "out",
            "report": report}


def test_a_pushed_version_keeps_the_statistics_of_its_data(tiny_run):
    summary = tiny_run["summary"]
    statistics = drift.read_statistics(f"{summary['pushed_model_dir']}/{drift.STATISTICS_FILE}")
    assert statistics.datasets[0].num_examples == sum(summary["split_sizes"].values())
    assert summary["drift"]["verdict"] == "no reference" and "the first model" in summary["drift"]["note"]


def test_a_drifted_span_stops_before_transform_naming_the_feature(drifted, tiny_run):
    stopped = drifted["stopped"]
    assert stopped.returncode == 1
    served = tiny_run["summary"]["pushed_model_dir"].replace(str(tiny_run["output"] / "serving"), str(drifted["serving"]))
    assert (f"DataDriftError: drift against the data the served model ({served}) was trained on; stopping before "
            "Transform (run with --accept-drift to accept it once):\n  ") in stopped.stderr
    assert "brightness: Jensen-Shannon divergence " in stopped.stderr
    summary = drifted["stopped_summary"]
    assert summary["failed"]["component"] == "DriftGate"
    assert "Transform" not in {c["name"] for c in summary["components"]}
    assert summary["drift"]["verdict"] == "stopped" and summary["drift"]["distances"]["brightness"] > 0.3
    assert drifted["versions_after_stop"] == drifted["versions_before"]  # nothing pushed


def test_accept_drift_lets_the_span_through_and_its_statistics_become_the_reference(drifted):
    summary = drifted["accepted"]
    assert summary["drift"]["verdict"] == "accepted"
    assert any(line.startswith("brightness: ") for line in summary["drift"]["drifted"])
    assert summary["pushed"] and len(list(drifted["serving"].iterdir())) == len(drifted["versions_before"]) + 1
    brightness = drift.read_statistics(f"{summary['pushed_model_dir']}/{drift.STATISTICS_FILE}")
    means = {f.path.step[0]: f.num_stats.mean for f in brightness.datasets[0].features if f.HasField("num_stats")}
    assert means["brightness"] < 0.35  # the dark span's, now what the next span is compared with


def test_the_report_of_the_stopped_run_shows_both_distributions(drifted):
    page = open(drifted["report"]).read()
    drift_section = page[page.index('<section id="drift">'):]
    assert "<b>stopped</b>" in drift_section and "drift.png" in drift_section
    row = drift_section[drift_section.index("<td>brightness</td>"):].split("</tr>")[0]
    assert "past the threshold" in row and row.count("mean ") == 2  # this span and the reference
    assert "Run failed</span> at <b>DriftGate</b>" in page
