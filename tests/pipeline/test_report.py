"""`flowers report` on a real run, rendered by headless Chromium as a person would open it."""
import html
import json
import re
import shutil
import subprocess

import pytest
from PIL import Image

from pipeline.summary import read_summary
from tests.pipeline.runs import FLOWERS

pytestmark = pytest.mark.e2e  # runs whole pipelines

SECTIONS = ["Training", "Evaluation", "Eval images", "On-device models", "Data", "Drift", "Lineage"]
PNGS = ["training.png", "confusion.png", "eval_images.png", "classes.png"]
# Appended to a copy of the page: once everything has loaded, writes what a person would see
# (section headings, images and which of them failed to load) into the DOM for --dump-dom.
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    headings: [...document.querySelectorAll("h2")].map(h => h.textContent),
    images: images.map(i => i.getAttribute("src")),
    broken: images.filter(i => i.complete && i.naturalWidth === 0).map(i => i.getAttribute("src")),
    pending: images.filter(i => !i.complete).map(i => i.getAttribute("src")),
  });
  document.body.appendChild(probe);
});
</script>"""


def _chromium(profile, *args: str) -> subprocess.CompletedProcess:
    browser = shutil.which("chromium")
    assert browser, "chromium is missing: `make test` installs it (Debian's package)"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--hide-scrollbars", f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("report")
    proc = subprocess.run([FLOWERS, "report", "--output", str(tiny_run["output"]), "--report-dir", str(report_dir)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"dir": report_dir, "stdout": proc.stdout,
            "summary": read_summary(str(tiny_run["output"] / "metadata.sqlite"), "flowers")}


def test_report_is_one_self_contained_page(report):
    index = report["dir"] / "index.html"
    assert report["stdout"].strip().splitlines()[-1] == str(index)
    page = index.read_text()
    for png in PNGS:
        assert (report["dir"] / png).stat().st_size > 1000, png
        assert f'src="{png}"' in page
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and all("://" not in link and not link.startswith("/") for link in links), links
    summary = report["summary"]
    assert summary["run_id"] in page
    assert "Records: " + " · ".join(f"{split} {count}" for split, count in summary["split_sizes"].items()) in page
    assert list(summary["split_sizes"]) == ["train", "validation", "eval"]
    assert (summary["pushed_model_dir"] if summary["pushed"] else "nothing pushed") in page


def test_browser_renders_every_section_and_image(report, tmp_path):
    probed = report["dir"] / "probe.html"  # beside index.html, so its relative image paths resolve
    probed.write_text(
        (report["dir"] / "index.html").read_text().replace("</body>", PROBE + "</body>"))
    dom = _chromium(tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", probed.as_uri()).stdout
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    seen = json.loads(html.unescape(match.group(1)))
    assert seen["headings"] == SECTIONS
    # The drift plot needs a served model's statistics to draw against: a second run on this output
    # (test_local_run's) has them, a first has not.
    drift = report["summary"]["drift"]
    assert drift is not None
    drawn = [] if drift["verdict"] == "no reference" else ["drift.png"]
    assert sorted(seen["images"]) == sorted(PNGS + drawn)
    assert seen["broken"] == [] and seen["pending"] == []


def test_screenshot_shows_a_real_page(report, tmp_path):
    shot = tmp_path / "report.png"
    _chromium(tmp_path / "profile", "--window-size=1280,4000", f"--screenshot={shot}",
              (report["dir"] / "index.html").as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 4000)
    pixels = image.size[0] * image.size[1]
    counts = {colour: count for count, colour in image.getcolors(maxcolors=pixels)}
    assert len(counts) > 1000, f"{len(counts)} colours: a blank or text-only page"  # the photos bring thousands
    assert counts.get((255, 255, 255), 0) < 0.9 * pixels, "the page is mostly empty"
