"""Folders of photos → TFRecords in the public flowers layout.

`src_dir` holds one sub-folder per class (`src_dir/<class>/**/*.jpg|jpeg|png`, any case). Every
image is scaled so its shorter side equals `size`, center-cropped to size×size, re-encoded as
JPEG (quality 95) and written as one record: image, class, label, size [h, w], one_hot_class.

Classes: the sub-folder names, numbered 0..N-1 in sorted order (any names, any number of them;
three of the flower folders make a three-class set) and written one a line, in that order, to
`out_dir/labels.txt` (data.flowers.LABELS_FILE), which the pipeline's schema step reads: the
schema, the model's head and its exported class names follow it. The five flower folders give the
public set's order and indices.

The images are shuffled (with a fixed seed, so runs repeat) across `shards` files named like the
public set, `flowers<shard:02d>-<count>.tfrec`, decoded and encoded in parallel by a process pool.
Unreadable images are skipped and reported by path, not fatal.
"""
from __future__ import annotations

import io
import os
import random
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

from data.flowers import LABELS_FILE

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
FILE_PREFIX = "flowers"
JPEG_QUALITY = 95
SHUFFLE_SEED = 1234


def find_classes(src_dir: str) -> list[str]:
    """The class folders of `src_dir` in class-index order: sorted names, hidden ones left out."""
    if not os.path.isdir(src_dir):
        raise ValueError(f"source folder {src_dir!r} does not exist or is not a folder")
    folders = sorted(e.name for e in os.scandir(src_dir) if e.is_dir() and not e.name.startswith("."))
    if not folders:
        raise ValueError(f"no class sub-folders in {src_dir!r}: expected one folder of photos per class, "
                         f"e.g. {src_dir}/daisy/*.jpg, {src_dir}/roses/*.jpg")
    return folders


def _list_images(folder: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, f) for f in files
                     if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS))
    return sorted(found)


def load_square(path: str, size: int):
    """Open an image, upright it (EXIF), make it RGB, scale the shorter side to `size`, center-crop."""
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        if img.format == "JPEG":
            img.draft("RGB", (size, size))  # let libjpeg decode big photos at a reduced scale (≥ size)
        img.load()
        img = ImageOps.exif_transpose(img)
        if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):  # 16-bit grey PNG
            img = img.point(lambda v: v * (1 / 256)).convert("L")
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.new("RGB", rgba.size, (255, 255, 255))
            img.paste(rgba, mask=rgba.getchannel("A"))
        elif img.mode != "RGB":
            img = img.convert("RGB")
        w, h = img.size
        if w < 1 or h < 1:
            raise ValueError(f"empty image {w}x{h}")
        scale = size / min(w, h)
        nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
        img = img.resize((nw, nh), Image.LANCZOS, reducing_gap=3.0)
        left, top = (nw - size) // 2, (nh - size) // 2
        return img.crop((left, top, left + size, top + size))


def _encode_shard(job: tuple) -> tuple[int, list[tuple[int, bytes]], list[tuple[str, str]]]:
    """Worker: decode, crop and JPEG-encode one shard's images. No TensorFlow here."""
    shard, items, size, quality = job
    done, skipped = [], []
    for path, class_index in items:
        try:
            img = load_square(path, size)
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=quality)
        except Exception as e:  # noqa: BLE001 - any unreadable image is reported, not fatal
            skipped.append((path, f"{type(e).__name__}: {e}"))
            continue
        done.append((class_index, buf.getvalue()))
    return shard, done, skipped


def convert(src_dir: str, out_dir: str, size: int = 192, shards: int = 16, workers: int | None = None,
            progress: bool = True) -> dict:
    """Convert `src_dir/<class>/*.jpg|jpeg|png` into TFRecords in `out_dir`.

    Returns {"files", "counts" (per class name), "total", "skipped" [(path, reason)], "class_names",
    "labels_file"}. Raises ValueError when there is nothing to convert, or a single class.
    """
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    per_folder = {folder: _list_images(os.path.join(src_dir, folder)) for folder in find_classes(src_dir)}
    empty = [folder for folder, paths in per_folder.items() if not paths]
    if len(empty) == len(per_folder):
        raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in the class folders of {src_dir!r}")
    if empty and progress:  # a class without examples would only confuse training
        print(f"warning: no images in {', '.join(empty)}; left out", file=sys.stderr)
    class_names = [folder for folder, paths in per_folder.items() if paths]
    if len(class_names) < 2:
        raise ValueError(f"only one class folder with images in {src_dir!r} ({class_names[0]}): "
                         "a classifier needs at least two")
    items = [(p, index) for index, folder in enumerate(class_names) for p in per_folder[folder]]

    import tensorflow as tf

    from data.flowers import encode_example

    random.Random(SHUFFLE_SEED).shuffle(items)
    n_shards = min(shards, len(items))
    bounds = [round(k * len(items) / n_shards) for k in range(n_shards + 1)]
    jobs = [(k, items[bounds[k]:bounds[k + 1]], size, JPEG_QUALITY) for k in range(n_shards)]

    tf.io.gfile.makedirs(out_dir)
    for old in tf.io.gfile.glob(os.path.join(out_dir, f"{FILE_PREFIX}[0-9][0-9]-*.tfrec")):
        tf.io.gfile.remove(old)
    labels_path = os.path.join(out_dir, LABELS_FILE)
    with tf.io.gfile.GFile(labels_path, "w") as f:
        f.write("".join(name + "\n" for name in class_names))

    files, skipped = {}, []
    counts = {name: 0 for name in class_names}

    def write(shard: int, records: list, bad: list, finished: int) -> None:
        skipped.extend(bad)
        if records:
            path = os.path.join(out_dir, f"{FILE_PREFIX}{shard:02d}-{len(records)}.tfrec")
            with tf.io.TFRecordWriter(path) as writer:
                for class_index, jpeg in records:
                    writer.write(encode_example(jpeg, class_index, size, size, class_names))
                    counts[class_names[class_index]] += 1
            files[shard] = path
        if progress:
            extra = f" ({len(bad)} skipped)" if bad else ""
            print(f"shard {finished}/{n_shards}: {len(records)} images{extra}", file=sys.stderr, flush=True)

    workers = max(1, min(n_shards, workers or os.cpu_count() or 1))
    if workers == 1:
        for finished, job in enumerate(jobs, 1):
            write(*_encode_shard(job), finished)
    else:
        # spawn, not fork: the parent has TensorFlow loaded, which does not survive fork well
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_encode_shard, job) for job in jobs]
            for finished, fut in enumerate(as_completed(futures), 1):
                write(*fut.result(), finished)

    skipped.sort()
    if skipped and progress:
        print(f"skipped {len(skipped)} unreadable images:", file=sys.stderr)
        for path, reason in skipped:
            print(f"  {path} ({reason})", file=sys.stderr)
    return {"files": [files[k] for k in sorted(files)], "counts": counts, "total": sum(counts.values()),
            "skipped": skipped, "class_names": list(class_names), "labels_file": labels_path}
