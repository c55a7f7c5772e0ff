"""`flowers report`: the latest run, read back from MLMD, as one self-contained HTML page.

Writes REPORT_DIR/index.html and the PNGs it shows beside it (relative links only, no network):
training curves (the Trainer's history.json), TFMA's confusion matrix with per-class precision
and recall, a grid of eval images classified by the trained model, TFDV's statistics, anomalies
and schema, the new span's image properties beside those of the served model's data (the drift
gate), and the lineage of every artifact.
"""
from __future__ import annotations

import html
import io
import json
import os

import numpy as np
from ml_metadata.proto import metadata_store_pb2

from components.schema import CLASS_NAMES_FROM
from components.signatures import IMAGE_BYTES, LABEL, PROBABILITIES, SERVING_IMAGES
from data import flowers, records
from pipeline import summary as run_summary

GRID_IMAGES = 24
# Output key → the components that produce it (the baseline resolver also outputs a `model`).
_SPLIT_OUTPUTS = ("examples", "statistics", "anomalies")  # folders per split
_PRODUCERS = {"examples": ("ImportExampleGen",), "statistics": ("StatisticsGen",),
              "schema": ("CuratedSchemaGen", "SchemaGen"), "anomalies": ("ExampleValidator",),
              "transform_graph": ("Transform",), "model": ("Trainer",), "model_run": ("Trainer",),
              "evaluation": ("Evaluator",), "blessing": ("Evaluator",)}
_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 24px 48px; color: #222; }
h1 { margin-top: 24px; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 36px; }
table { border-collapse: collapse; margin: 8px 0 16px; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; } code { background: #f4f4f4; padding: 1px 4px; word-break: break-all; }
.verdict { font-size: 17px; } .error { white-space: pre-wrap; } .yes { color: #1a7f37; font-weight: bold; } .no { color: #c62828; font-weight: bold; }
nav a { margin-right: 14px; } .row { display: flex; gap: 32px; align-items: center; flex-wrap: wrap; }
"""


def write_report(output: str, report_dir: str | None = None, pipeline_name: str = "flowers",
                 grid_images: int = GRID_IMAGES) -> str:
    """Reads the latest run under `output` and writes the report; returns the path of index.html."""
    metadata = os.path.join(output, "metadata.sqlite")
    if not os.path.exists(metadata):
        raise FileNotFoundError(f"no runs recorded in {output} (no metadata.sqlite): run `flowers run` first")
    report_dir = report_dir or os.path.join(output, "report")
    os.makedirs(report_dir, exist_ok=True)
    summary = run_summary.read_summary(metadata, pipeline_name)
    _, executions = run_summary.latest_run(metadata, pipeline_name)
    outputs = {name: outs for name, _, outs in executions}
    props = {name: {k: v.string_value or v.int_value for k, v in e.custom_properties.items()}
             for name, e, _ in executions}
    # Only published artifacts: a component that failed leaves its outputs PENDING, with no files.
    published = {key: outputs[name][key] for key, names in _PRODUCERS.items() for name in names
                 if key in outputs.get(name, {}) and outputs[name][key].state == metadata_store_pb2.Artifact.LIVE}
    artifacts = {key: artifact.uri for key, artifact in published.items()}
    splits = {key: run_summary.split_uris(published[key]) for key in _SPLIT_OUTPUTS if key in published}
    class_names = flowers.class_names(_schema(artifacts["schema"])) if "schema" in artifacts else []
    curated = outputs.get("CuratedSchemaGen", {}).get("schema")
    class_source = curated.custom_properties[CLASS_NAMES_FROM].string_value if curated else None

    def png(name: str, figure) -> str:
        figure.savefig(os.path.join(report_dir, name), dpi=80, bbox_inches="tight")
        return f'<img src="{name}" alt="{name}">'

    sections = [("Training", _training(artifacts, png)),
                ("Evaluation", _evaluation(artifacts, class_names, png)),
                ("Eval images", _eval_images(artifacts, splits, grid_images, png)),
                ("On-device models", _on_device(summary)),
                ("Data", _data(splits, artifacts, png)),
                ("Drift", _drift(summary.get("drift"), outputs, png)),
                ("Lineage", _lineage(summary, props, artifacts, class_source))]
    page = _page(summary, sections)
    path = os.path.join(report_dir, "index.html")
    with open(path, "w") as f:
        f.write(page)
    return path


def _page(summary: dict, sections: list[tuple[str, str]]) -> str:
    blessed = "yes" if summary["blessed"] else "no"
    verdict = f'Blessed: <span class="{blessed}">{blessed}</span> · ' + (
        f'pushed to <code>{html.escape(summary["pushed_model_dir"])}</code>' if summary["pushed"] else "nothing pushed")
    if summary["accuracy"] is not None:
        verdict = f"Eval accuracy <b>{summary['accuracy']:.3f}</b> · {verdict}"
    if summary.get("failed"):  # first: why the run stopped (AnomaliesGate, RecordCheck, ...)
        failed = summary["failed"]
        verdict = (f'<span class="no">Run failed</span> at <b>{html.escape(failed["component"])}</b>: '
                   f'<span class="error">{html.escape(failed["error"] or "see the run log")}</span><br>{verdict}')
    if summary["split_sizes"]:
        verdict += "<br>Records: " + " · ".join(f"{html.escape(split)} {count}"
                                                for split, count in summary["split_sizes"].items())
    nav = " ".join(f'<a href="#{_anchor(title)}">{title}</a>' for title, _ in sections)
    body = "\n".join(f'<section id="{_anchor(title)}">\n<h2>{title}</h2>\n{content}\n</section>'
                     for title, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>flowers run {html.escape(summary["run_id"])}</title><style>{_CSS}</style></head><body>\n'
            f'<h1>flowers run {html.escape(summary["run_id"])}</h1>\n<p class="verdict">{verdict}</p>\n'
            f'<nav>{nav}</nav>\n{body}\n</body></html>\n')


def _anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def _table(header: list[str], rows: list[list], numeric: tuple[int, ...] = ()) -> str:
    """An HTML table; floats with 3 decimals; the `numeric` columns right-aligned."""
    def cell(i, value):
        text = f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))
        return f'<td class="num">{text}</td>' if i in numeric else f"<td>{text}</td>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(width: float, height: float, rows: int = 1, cols: int = 1):
    """(figure, 2-D array of axes) drawn by Agg, without pyplot's global state or a display."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure, figure.subplots(rows, cols, squeeze=False)


# --- Training ------------------------------------------------------------------------------------

def _training(artifacts: dict, png) -> str:
    path = os.path.join(artifacts.get("model_run", ""), "history.json")
    if not os.path.exists(path):
        return "<p>No training history (the Trainer did not run).</p>"
    with open(path) as f:
        history = json.load(f)
    epochs = np.arange(1, len(history["loss"]) + 1)
    best = int(np.argmax(history["val_accuracy"]))
    figure, axes = _figure(11, 3.8, cols=2)
    for ax, metric in zip(axes[0], ("loss", "accuracy")):
        ax.plot(epochs, history[metric], "o-", label="train")
        ax.plot(epochs, history[f"val_{metric}"], "o-", label="validation")
        ax.axvline(best + 1, color="gray", linestyle="--", linewidth=1, label="best epoch")
        ax.set(title=metric, xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    return (png("training.png", figure) +
            f"<p>{len(epochs)} epochs; best validation accuracy {history['val_accuracy'][best]:.3f} at epoch {best + 1} "
            "(the exported model keeps that epoch's weights). TensorBoard: "
            f"<code>tensorboard --logdir {html.escape(artifacts['model_run'])}</code></p>")


# --- Evaluation (TFMA) ---------------------------------------------------------------------------

def confusion_matrix(evaluation_uri: str, num_classes: int) -> np.ndarray:
    """[actual, predicted] counts of the candidate model, overall slice, from TFMA's saved plot."""
    import tensorflow_model_analysis as tfma

    matrix = np.zeros((num_classes, num_classes))
    for plots in tfma.load_plots(evaluation_uri):
        if plots.slice_key.single_slice_keys:
            continue
        for kv in plots.plot_keys_and_values:
            if kv.key.model_name not in ("", "candidate") or not kv.value.HasField("multi_class_confusion_matrix_at_thresholds"):
                continue
            for entry in kv.value.multi_class_confusion_matrix_at_thresholds.matrices[0].entries:
                if entry.predicted_class_id >= 0:  # -1: no prediction above the threshold
                    matrix[entry.actual_class_id, entry.predicted_class_id] += entry.num_weighted_examples
    return matrix


def _evaluation(artifacts: dict, class_names: list[str], png) -> str:
    if "evaluation" not in artifacts:
        return "<p>No evaluation (the Evaluator did not run).</p>"
    matrix = confusion_matrix(artifacts["evaluation"], len(class_names))
    figure, axes = _figure(6, 5)
    ax = axes[0][0]
    ax.imshow(matrix, cmap="Blues")
    for (actual, predicted), count in np.ndenumerate(matrix):
        ax.text(predicted, actual, f"{count:.0f}", ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ticks = range(len(class_names))
    ax.set(xticks=ticks, yticks=ticks, xlabel="predicted", ylabel="true", title="confusion matrix (eval split)")
    ax.set_xticklabels(class_names, rotation=30)
    ax.set_yticklabels(class_names)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.diag(matrix) / matrix.sum(axis=0)
        recall = np.diag(matrix) / matrix.sum(axis=1)
    rows = [[name, float(p), float(r), int(n)] for name, p, r, n in zip(class_names, precision, recall, matrix.sum(axis=1))]
    return ('<div class="row">' + png("confusion.png", figure) +
            _table(["class", "precision", "recall", "eval examples"], rows, numeric=(1, 2, 3)) + "</div>" +
            "<p>From TFMA's MultiClassConfusionMatrixPlot of the candidate model (the Evaluator's output); "
            "recall is the per-class accuracy the accuracy slices report.</p>")


# --- Eval images ---------------------------------------------------------------------------------

def predict_eval_images(eval_dir: str, model_dir: str, count: int) -> list[dict]:
    """The first `count` records of the eval split's folder, fed as JPEG bytes to the model's
    SERVING_IMAGES signature."""
    import tensorflow as tf

    files = sorted(tf.io.gfile.glob(os.path.join(eval_dir, "*")))
    compression = records.compression(files[0])
    examples = [flowers.decode_example(s) for s in
                tf.data.TFRecordDataset(files, compression_type=compression).take(count).as_numpy_iterator()]
    serve = tf.saved_model.load(model_dir).signatures[SERVING_IMAGES]
    out = serve(**{IMAGE_BYTES: tf.constant([r[flowers.IMAGE_KEY] for r in examples])})
    return [{"image": r[flowers.IMAGE_KEY], "true": r[flowers.LABEL_KEY], "predicted": label.decode(),
             "probability": float(p.max())}
            for r, label, p in zip(examples, out[LABEL].numpy(), out[PROBABILITIES].numpy())]


def _eval_images(artifacts: dict, splits: dict, count: int, png) -> str:
    if "model" not in artifacts or "examples" not in splits:
        return "<p>No trained model.</p>"
    from PIL import Image
    from tfx.utils import path_utils

    predictions = predict_eval_images(splits["examples"][flowers.EVAL_SPLIT], path_utils.serving_model_path(artifacts["model"]), count)
    cols = 6
    figure, axes = _figure(12, 2.3 * -(-len(predictions) // cols), rows=-(-len(predictions) // cols), cols=cols)
    for ax in axes.flat:
        ax.axis("off")
    for ax, p in zip(axes.flat, predictions):
        wrong = p["predicted"] != p["true"]
        ax.imshow(Image.open(io.BytesIO(p["image"])).convert("RGB"))
        ax.set_title(f"{p['predicted']} {p['probability']:.0%}" + (f"\ntrue: {p['true']}" if wrong else "\n"),
                     color="#c62828" if wrong else "#1a7f37", fontsize=10, fontweight="bold" if wrong else "normal")
        if wrong:
            ax.axis("on")
            ax.set(xticks=[], yticks=[])
            for spine in ax.spines.values():
                spine.set(color="#c62828", linewidth=4)
    mistakes = sum(p["predicted"] != p["true"] for p in predictions)
    return (png("eval_images.png", figure) +
            f"<p>The first {len(predictions)} eval records, classified by the trained model's "
            f"<code>{SERVING_IMAGES}</code> signature from their JPEG bytes: predicted class and probability; "
            f"{mistakes} mistakes, framed in red with the true class.</p>")


def _on_device(summary: dict) -> str:
    if not summary.get("tflite"):
        return "<p>No TensorFlow Lite models (run without <code>--no-tflite</code>).</p>"
    scores = summary["tflite"]
    rows = [[fmt, "" if accuracy is None else accuracy, f"{size:,}" if size else "", f"{latency:.2f}" if latency else "", decision]
            for fmt, accuracy, size, latency, decision in run_summary.tflite_rows(scores)]
    return (_table(["format", "accuracy", "bytes", "latency (ms)", "decision"], rows, numeric=(1, 2, 3)) +
            f"<p>Each model classified the {scores['eval_images']} eval images one at a time on this machine's CPU "
            "(latency: the median; TFLite on one thread). A TFLite model is pushed beside the SavedModel when its "
            f"accuracy is at most {scores['max_accuracy_drop']:g} below the SavedModel's, and only when the "
            "SavedModel is pushed. The int8 model takes uint8 pixels and returns uint8 probabilities; the float16 "
            "one takes float32 pixels; both at the training size, 0..255.</p>")


# --- Data (TFDV) ---------------------------------------------------------------------------------

def _statistics_rows(stats) -> list[list]:
    rows = []
    for feature in sorted(stats.datasets[0].features, key=lambda f: list(f.path.step)):
        kind = feature.WhichOneof("stats")
        values = getattr(feature, kind)
        common = values.common_stats
        if kind == "num_stats":
            detail = f"min {values.min:g}, mean {values.mean:.3g}, max {values.max:g}, std {values.std_dev:.3g}"
        else:
            top = ", ".join(f"{v.value} ({v.frequency:.0f})" for v in values.top_values[:5])
            detail = f"{values.unique} unique" + (f"; top: {top}" if top and values.unique <= 50 else "") + \
                (f"; avg length {values.avg_length:.0f} bytes" if values.avg_length > 100 else "")
        rows.append([".".join(feature.path.step), type(feature).Type.Name(feature.type).lower(),
                     common.num_non_missing, common.num_missing,
                     f"{common.min_num_values}–{common.max_num_values}", detail])
    return rows


def _class_counts(stats) -> dict:
    for feature in stats.datasets[0].features:
        if list(feature.path.step) == [flowers.LABEL_KEY]:
            return {v.value: v.frequency for v in feature.string_stats.top_values}
    return {}


def _data(splits: dict, artifacts: dict, png) -> str:
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.utils import display_util
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    parts = []
    if "statistics" in splits:
        statistics = {split: tfdv.load_stats_binary(os.path.join(d, "FeatureStats.pb"))
                      for split, d in splits["statistics"].items()}
        counts = {split: _class_counts(stats) for split, stats in statistics.items()}
        names = sorted({name for c in counts.values() for name in c})
        figure, axes = _figure(7, 3)
        width = 0.8 / max(len(counts), 1)
        for i, (split, c) in enumerate(counts.items()):
            axes[0][0].bar(np.arange(len(names)) + i * width, [c.get(n, 0) for n in names], width, label=split)
        axes[0][0].set(xticks=np.arange(len(names)) + width * (len(counts) - 1) / 2, title="records per class",
                       ylim=(0, 1.3 * max((v for c in counts.values() for v in c.values()), default=1)))
        axes[0][0].set_xticklabels(names)
        axes[0][0].legend(ncol=len(counts), loc="upper center")
        parts.append("<h3>Statistics (TFDV, StatisticsGen)</h3><p>TFDV's interactive Facets view loads its code "
                     "from the internet, so this offline page shows the same statistics as tables.</p>" +
                     png("classes.png", figure))
        for split, stats in statistics.items():
            parts.append(f"<h4>{html.escape(split)}: {stats.datasets[0].num_examples} records</h4>" +
                         _table(["feature", "type", "present", "missing", "values per record", "summary"],
                                _statistics_rows(stats), numeric=(2, 3)))
    if "anomalies" in splits:
        parts.append("<h3>Anomalies (TFDV, ExampleValidator)</h3>")
        for split, d in splits["anomalies"].items():
            with open(os.path.join(d, "SchemaDiff.pb"), "rb") as f:
                frame = display_util.get_anomalies_dataframe(anomalies_pb2.Anomalies.FromString(f.read()))
            parts.append(f"<h4>{html.escape(split)}</h4>" +
                         ('<p class="yes">No anomalies found.</p>' if frame.empty else _frame(frame)))
    if "schema" in artifacts:
        features, domains = display_util.get_schema_dataframe(_schema(artifacts["schema"]))
        parts.append("<h3>Schema (TFDV)</h3>" + _frame(features) + ("" if domains.empty else _frame(domains)))
    return "\n".join(parts) or "<p>No data artifacts.</p>"


# --- Drift (components/drift_gate.py) --------------------------------------------------------------

def _drift_statistics(outputs: dict) -> tuple:
    """(this span's, the served version's) image statistics features by name; either may be {}."""
    from tfx.utils import path_utils

    from components import drift
    from components.drift_gate import statistics_file

    def features(path: str) -> dict:
        statistics = drift.read_statistics(path)
        return {f.path.step[0]: f for f in statistics.datasets[0].features} if statistics else {}

    current = outputs.get("DriftStatisticsGen", {}).get("drift_statistics")
    served = outputs.get("Baseline", {}).get("model")
    return (features(statistics_file(current.uri)) if current else {},
            features(os.path.join(path_utils.serving_model_path(served.uri), drift.STATISTICS_FILE)) if served else {})


def _describe(feature) -> str:
    if feature is None:
        return "—"
    if feature.HasField("num_stats"):
        n = feature.num_stats
        return f"mean {n.mean:.3g} ± {n.std_dev:.2g} ({n.min:.3g}–{n.max:.3g})"
    total = sum(v.frequency for v in feature.string_stats.top_values) or 1
    return ", ".join(f"{v.value} {v.frequency / total:.0%}" for v in feature.string_stats.top_values[:5])


def _shares(feature) -> tuple:
    """A feature's distribution: (bar centres, widths, shares of the records) of a number's standard
    histogram; {class: share} of the class mix."""
    if feature.HasField("num_stats"):
        [histogram] = [h for h in feature.num_stats.histograms if h.type == h.STANDARD] or [None]
        buckets = list(histogram.buckets) if histogram else []
        total = sum(b.sample_count for b in buckets) or 1
        return ([(b.low_value + b.high_value) / 2 for b in buckets], [(b.high_value - b.low_value) or 1 for b in buckets],
                [b.sample_count / total for b in buckets])
    total = sum(v.frequency for v in feature.string_stats.top_values) or 1
    return {v.value: v.frequency / total for v in feature.string_stats.top_values}


def _drift(drift: dict | None, outputs: dict, png) -> str:
    if not drift:
        return "<p>The drift gate did not run.</p>"
    if drift["note"]:
        return f"<p>{html.escape(drift['note'])}: nothing to compare this span with; its statistics are pushed " \
               "with the model and become the reference of later runs.</p>"
    current, reference = _drift_statistics(outputs)
    drifted = {line.split(":", 1)[0] for line in drift["drifted"]}
    rows = [[name, measure, drift["distances"].get(name, float("nan")), f"{threshold:g}",
             "past the threshold" if name in drifted else "within", _describe(current.get(name)), _describe(reference.get(name))]
            for name, (measure, threshold) in drift["thresholds"].items()]
    names = [name for name in drift["thresholds"] if name in current and name in reference]
    figure, axes = _figure(12, 2.6 * -(-len(names) // 3), rows=-(-len(names) // 3), cols=3)
    for ax in axes.flat:
        ax.axis("off")
    for ax, name in zip(axes.flat, names):
        ax.axis("on")
        shares = [_shares(current[name]), _shares(reference[name])]
        if isinstance(shares[0], dict):  # the class mix: grouped bars
            classes = sorted(set(shares[0]) | set(shares[1]))
            for i, (label, share) in enumerate(zip(("this span", "reference"), shares)):
                ax.bar(np.arange(len(classes)) + (i - 0.5) * 0.4, [share.get(c, 0) for c in classes], 0.4, label=label)
            ax.set_xticks(np.arange(len(classes)))
            ax.set_xticklabels(classes, rotation=30, fontsize=8)
        else:
            for label, (x, width, share) in zip(("this span", "reference"), shares):
                ax.bar(x, share, width, alpha=0.55, label=label)
        ax.set_title(f"{name}: {drift['distances'].get(name, float('nan')):.3f}" + (" (drifted)" if name in drifted else ""),
                     color="#c62828" if name in drifted else "black", fontsize=10)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return (f"<p>This span against the data the served model was trained on (<code>{html.escape(drift['reference'])}"
            f"</code>): <b>{html.escape(drift['verdict'])}</b>. Thresholds from <code>data/schema/drift.pbtxt</code>; "
            "L-infinity distance of the class shares, Jensen-Shannon divergence of each property's histogram.</p>" +
            _table(["feature", "measure", "distance", "threshold", "verdict", "this span", "reference"], rows, numeric=(2, 3)) +
            (png("drift.png", figure) if names else ""))


def _schema(uri: str):
    """The Schema proto of a schema artifact."""
    from tfx.utils import io_utils

    return io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(uri))


def _frame(frame) -> str:
    """One of TFDV's display DataFrames as an HTML table, its index as the first column."""
    return frame.reset_index().to_html(index=False, border=0)


# --- Lineage -------------------------------------------------------------------------------------

def _lineage(summary: dict, props: dict, artifacts: dict, class_source: str | None) -> str:
    def code(text) -> str:
        return f"<code>{html.escape(str(text))}</code>" if text else "—"

    schema_source = (f"curated, {code(props['CuratedSchemaGen'].get('schema_file'))}, class names from "
                     f"{code(class_source)}" if "CuratedSchemaGen" in props else "inferred by SchemaGen")
    rows = [
        ("run id", code(summary["run_id"])),
        ("data", code(props.get("ImportExampleGen", {}).get("input_base"))),
        ("examples (ImportExampleGen)", code(artifacts.get("examples"))),
        ("schema", f"{schema_source}; artifact {code(artifacts.get('schema'))}"),
        ("statistics / anomalies", f"{code(artifacts.get('statistics'))}<br>{code(artifacts.get('anomalies'))}"),
        ("transform graph", code(artifacts.get("transform_graph"))),
        ("model (Trainer)", f"{code(artifacts.get('model'))}<br>config {code(props.get('Trainer', {}).get('custom_config'))}"),
        ("TensorBoard logs", code(artifacts.get("model_run"))),
        ("evaluation", code(artifacts.get("evaluation"))),
        ("blessing", f"{'yes' if summary['blessed'] else 'no'}, {code(artifacts.get('blessing'))}"),
        ("pushed version", code(summary["pushed_model_dir"]) if summary["pushed"] else "nothing pushed"),
    ]
    lineage = "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"
    durations = _table(["component", "state", "seconds"],
                       [[c["name"], c["state"], f"{c['seconds']:.1f}"] for c in summary["components"]], numeric=(2,))
    return lineage + "<h3>Components</h3>" + durations
