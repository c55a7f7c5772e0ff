"""A deterministic synthetic five-class "flowers" set, written in the public TFRecord layout.

Each class is a family of drawn shapes and colours:

* daisy      - many thin, rounded, white (sometimes pale pink/lilac) petals around a small yellow centre
* dandelion  - a dense disc of very many short, thin yellow petals (sometimes a grey-white seed puff)
* roses      - layered, concentric, broad petals in red/pink (sometimes white/yellow/orange) with dark edges
* sunflowers - pointed yellow/orange petals around a large dark-brown centre
* tulips     - a cup seen from the side on a stem, red/orange/purple/pink/yellow (sometimes seen from above)

Every image gets a random background (green/brown/grey gradients, blades of grass, blurry "bokeh"
blobs in flower-like colours), 1-4 flowers at random position, scale and rotation, occluding
leaves, blur, colour casts and pixel noise. The colour ranges of some classes overlap on purpose
(roses/tulips, dandelion/sunflowers/daisy centres) and a small share of images is deliberately
ambiguous (a flower drawn in another class's colours, or tiny and mostly hidden), so a small
convnet lands well above chance but clearly below 100 %.

The output depends only on (per_class, seed, size, shards): every image is drawn from its own
random generator seeded with (seed, class, index), so the same inputs give byte-identical files
(for a given Pillow / libjpeg build), whatever the number of worker processes.
"""
from __future__ import annotations

import io
import math
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from data.flowers import CLASS_NAMES

FILE_PREFIX = "synth"
JPEG_QUALITY = 85
SUPERSAMPLE = 2          # draw at 2x and downsample: smooth edges at little cost
AMBIGUOUS_SHARE = 0.08   # images drawn deliberately in another class's style/colours


# --------------------------------------------------------------------------- colours

def _jitter(rng: np.random.Generator, rgb, amount: float = 18.0) -> tuple[int, int, int]:
    c = np.asarray(rgb, dtype=np.float64) + rng.normal(0.0, amount, 3)
    return tuple(int(v) for v in np.clip(c, 0, 255))


def _shade(rgb, factor: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(v * factor, 0, 255)) for v in rgb)


def _pick(rng: np.random.Generator, options: list, weights: list[float]):
    w = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


YELLOW = (245, 215, 35)       # lemon: dandelions, daisy centres
DEEP_YELLOW = (245, 165, 20)  # golden: sunflowers
WHITE = (242, 240, 232)
PALE_PINK = (240, 200, 215)
LILAC = (215, 200, 240)
RED = (200, 30, 45)
DARK_RED = (150, 20, 35)
PINK = (230, 110, 150)
ORANGE = (240, 120, 30)
PURPLE = (130, 50, 150)
BROWN = (80, 45, 20)


def _petal_colour(rng: np.random.Generator, cls: str) -> tuple[int, int, int]:
    if cls == "daisy":
        base = _pick(rng, [WHITE, PALE_PINK, LILAC, (250, 245, 190)], [0.82, 0.07, 0.06, 0.05])
        return _jitter(rng, base, 10)
    if cls == "dandelion":
        return _jitter(rng, _pick(rng, [YELLOW, (250, 232, 70), (240, 200, 30)], [0.6, 0.3, 0.1]), 12)
    if cls == "roses":
        base = _pick(rng, [RED, DARK_RED, PINK, ORANGE, (245, 225, 200), (240, 200, 60)],
                     [0.42, 0.25, 0.2, 0.04, 0.05, 0.04])
        return _jitter(rng, base, 16)
    if cls == "sunflowers":
        return _jitter(rng, _pick(rng, [DEEP_YELLOW, (235, 140, 20), YELLOW], [0.55, 0.35, 0.1]), 12)
    if cls == "tulips":
        base = _pick(rng, [RED, ORANGE, PURPLE, PINK, (245, 210, 40), (240, 236, 225)],
                     [0.14, 0.3, 0.24, 0.12, 0.12, 0.08])
        return _jitter(rng, base, 18)
    raise ValueError(cls)


# --------------------------------------------------------------------------- geometry

def _ellipse_petal(cx, cy, theta, r0, length, width, n=14):
    """A rounded petal: an ellipse from radius r0 to r0+length along direction theta."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    u = r0 + length / 2 + (length / 2) * np.cos(t)
    v = (width / 2) * np.sin(t)
    return _rotate(cx, cy, theta, u, v)


def _pointed_petal(cx, cy, theta, r0, length, width, n=12, bulge=0.8):
    """A lens-shaped petal with a pointed tip."""
    s = np.linspace(0, 1, n)
    w = (width / 2) * np.sin(np.pi * s) ** bulge
    u = np.concatenate([r0 + length * s, r0 + length * s[::-1]])
    v = np.concatenate([w, -w[::-1]])
    return _rotate(cx, cy, theta, u, v)


def _rotate(cx, cy, theta, u, v):
    c, s = math.cos(theta), math.sin(theta)
    x = cx + u * c - v * s
    y = cy + u * s + v * c
    return [(float(a), float(b)) for a, b in zip(x, y)]


def _circle(draw, cx, cy, r, fill, outline=None, width=1):
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline, width=width)


# --------------------------------------------------------------------------- flowers

def _draw_daisy(draw, rng, cx, cy, R, colour):
    n = int(rng.integers(14, 27))
    rot = rng.uniform(0, 2 * np.pi)
    width = R * rng.uniform(0.1, 0.17)
    edge = _shade(colour, 0.82)
    centre_r = R * rng.uniform(0.18, 0.28)
    for layer in range(int(rng.integers(1, 3))):
        off = layer * np.pi / n
        for i in range(n):
            th = rot + off + 2 * np.pi * i / n + rng.normal(0, 0.05)
            length = R * rng.uniform(0.75, 1.0) * (1 - 0.15 * layer)
            draw.polygon(_ellipse_petal(cx, cy, th, centre_r * 0.6, length, width), fill=colour, outline=edge)
    centre = _jitter(rng, _pick(rng, [YELLOW, DEEP_YELLOW], [0.6, 0.4]), 12)
    _circle(draw, cx, cy, centre_r, centre, outline=_shade(centre, 0.75), width=max(1, int(R * 0.03)))
    for _ in range(int(rng.integers(8, 20))):  # texture on the disc
        a, d = rng.uniform(0, 2 * np.pi), centre_r * math.sqrt(rng.uniform(0, 0.8))
        _circle(draw, cx + d * math.cos(a), cy + d * math.sin(a), max(1.0, R * 0.02), _shade(centre, 0.8))


def _draw_dandelion(draw, rng, cx, cy, R, colour):
    if rng.uniform() < 0.08:  # seed puff: grey-white sphere of thin radiating lines
        fuzz = _jitter(rng, (225, 225, 220), 10)
        _circle(draw, cx, cy, R * 0.9, _shade(fuzz, 0.9))
        for _ in range(int(rng.integers(60, 110))):
            a = rng.uniform(0, 2 * np.pi)
            r = R * rng.uniform(0.6, 1.0)
            draw.line([(cx, cy), (cx + r * math.cos(a), cy + r * math.sin(a))], fill=fuzz, width=max(1, int(R * 0.02)))
        _circle(draw, cx, cy, R * 0.12, _jitter(rng, (150, 130, 90), 10))
        return
    layers = int(rng.integers(3, 5))
    for layer in range(layers):
        frac = 1 - layer / layers
        n = int(rng.integers(36, 64))
        shade = _shade(colour, 0.85 + 0.2 * layer / layers)
        for i in range(n):
            th = 2 * np.pi * i / n + rng.normal(0, 0.08)
            length = R * frac * rng.uniform(0.7, 1.0)
            draw.polygon(_ellipse_petal(cx, cy, th, 0, length, R * rng.uniform(0.05, 0.09), n=8),
                         fill=shade, outline=_shade(shade, 0.88))
    _circle(draw, cx, cy, R * 0.14, _shade(colour, 0.9))


def _draw_rose(draw, rng, cx, cy, R, colour):
    layers = int(rng.integers(4, 7))
    rot = rng.uniform(0, 2 * np.pi)
    for layer in range(layers):
        frac = 1 - layer / (layers + 0.5)
        n = int(rng.integers(5, 8))
        base = _shade(colour, 1.05 - 0.35 * layer / layers)
        edge = _shade(base, 0.6)
        for i in range(n):
            th = rot + layer * 0.7 + 2 * np.pi * i / n + rng.normal(0, 0.1)
            r0 = R * frac * 0.25
            length = R * frac * rng.uniform(0.65, 0.8)
            width = R * frac * rng.uniform(0.75, 1.0)
            draw.polygon(_ellipse_petal(cx, cy, th, r0, length, width, n=18), fill=base, outline=edge)
    # a dark spiral in the middle
    pts = []
    for k in range(40):
        t = k / 39
        a = rot + t * 4 * np.pi
        r = R * 0.22 * t
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    draw.line(pts, fill=_shade(colour, 0.45), width=max(1, int(R * 0.04)))


def _draw_sunflower(draw, rng, cx, cy, R, colour):
    n = int(rng.integers(16, 32))
    rot = rng.uniform(0, 2 * np.pi)
    centre_r = R * rng.uniform(0.34, 0.48)
    edge = _shade(colour, 0.8)
    for layer in range(2):
        for i in range(n):
            th = rot + layer * np.pi / n + 2 * np.pi * i / n + rng.normal(0, 0.06)
            length = (R - centre_r * 0.8) * rng.uniform(0.8, 1.15) * (1 - 0.12 * layer)
            draw.polygon(_pointed_petal(cx, cy, th, centre_r * 0.8, length, R * rng.uniform(0.16, 0.26)),
                         fill=_shade(colour, 1 - 0.1 * layer), outline=edge)
    centre = _jitter(rng, _pick(rng, [BROWN, (60, 35, 15), (110, 70, 25)], [0.5, 0.3, 0.2]), 10)
    _circle(draw, cx, cy, centre_r, centre, outline=_shade(centre, 0.6), width=max(1, int(R * 0.03)))
    for _ in range(int(rng.integers(20, 50))):  # seeds
        a, d = rng.uniform(0, 2 * np.pi), centre_r * math.sqrt(rng.uniform(0, 0.9))
        _circle(draw, cx + d * math.cos(a), cy + d * math.sin(a), max(1.0, R * 0.025), _shade(centre, 1.35))


def _draw_tulip(draw, rng, cx, cy, R, colour):
    edge = _shade(colour, 0.65)
    if rng.uniform() < 0.2:  # seen from above: six broad petals, one layer, small dark centre
        rot = rng.uniform(0, 2 * np.pi)
        for i in range(6):
            th = rot + 2 * np.pi * i / 6
            draw.polygon(_pointed_petal(cx, cy, th, 0, R, R * 0.65, bulge=0.6), fill=colour, outline=edge)
        _circle(draw, cx, cy, R * 0.15, _jitter(rng, (50, 40, 30), 10))
        return
    tilt = rng.normal(0, 0.25)  # radians, stems point roughly downward
    stem = _jitter(rng, (60, 130, 50), 15)

    def tr(u, v):  # flower frame (u right, v down) → image
        c, s = math.cos(tilt), math.sin(tilt)
        return (cx + u * c - v * s, cy + u * s + v * c)

    # stem and a leaf
    draw.line([tr(0, R * 0.5), tr(R * 0.1, R * 2.4)], fill=stem, width=max(2, int(R * 0.09)))
    side = 1 if rng.uniform() < 0.5 else -1
    leaf = [tr(side * u, v) for u, v in ((0, R * 2.2), (side * 0 + R * 0.45, R * 1.2), (R * 0.15, R * 1.0), (0.05 * R, R * 1.9))]
    draw.polygon(leaf, fill=_shade(stem, 0.9))
    w = R * rng.uniform(0.7, 0.9)
    h = R * rng.uniform(1.1, 1.4)
    vb = R * 0.5          # bottom of the cup, where the stem starts
    vr = vb - h           # rim
    # cup body: a U, sides slightly bulging, then a rim with three pointed petal tips
    body = []
    for k in range(21):
        a = np.pi * k / 20
        body.append(tr(-w * math.cos(a), vr + 0.45 * h + 0.55 * h * math.sin(a)))
    tip = h * rng.uniform(0.1, 0.25)
    rim = [(w * 1.05, vr + 0.25 * h), (w * 0.95, vr - tip), (w * 0.4, vr + 0.15 * h), (0, vr - tip * 1.2),
           (-w * 0.4, vr + 0.15 * h), (-w * 0.95, vr - tip), (-w * 1.05, vr + 0.25 * h)]
    draw.polygon(body + [tr(u, v) for u, v in rim], fill=colour, outline=edge)
    # overlapping front petal edge and a highlight
    draw.line([tr(-w * 0.4, vr + 0.15 * h), tr(-w * 0.1, vb - 0.1 * h), tr(w * 0.4, vr + 0.15 * h)],
              fill=edge, width=max(1, int(R * 0.04)))
    draw.line([tr(-w * 0.7, vr + 0.3 * h), tr(-w * 0.6, vb - 0.3 * h)],
              fill=_shade(colour, 1.3), width=max(1, int(R * 0.05)))


DRAWERS = {
    "daisy": _draw_daisy,
    "dandelion": _draw_dandelion,
    "roses": _draw_rose,
    "sunflowers": _draw_sunflower,
    "tulips": _draw_tulip,
}


# --------------------------------------------------------------------------- scenes

def _background(rng: np.random.Generator, S: int):
    from PIL import Image, ImageDraw, ImageFilter

    families = [
        ((70, 120, 50), (30, 70, 25)),     # green
        ((120, 100, 60), (70, 55, 30)),    # brown soil
        ((100, 130, 70), (140, 120, 70)),  # dry grass
        ((150, 170, 190), (70, 110, 50)),  # sky over meadow
        ((60, 80, 60), (20, 30, 20)),      # dark foliage
    ]
    top, bottom = families[int(rng.integers(len(families)))]
    top, bottom = np.array(_jitter(rng, top, 20), float), np.array(_jitter(rng, bottom, 20), float)
    t = np.linspace(0, 1, S)[:, None, None]
    grad = top * (1 - t) + bottom * t
    img = Image.fromarray(np.broadcast_to(grad, (S, S, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    # blobs: blurry out-of-focus flowers and leaves, in flower-like colours too
    for _ in range(int(rng.integers(1, 7))):
        col = _pick(rng, [(60, 110, 40), (40, 80, 30), YELLOW, WHITE, RED, PINK, PURPLE, (120, 90, 50)],
                    [8, 8, 1, 1, 1, 1, 0.5, 3])
        r = S * rng.uniform(0.04, 0.18)
        _circle(draw, rng.uniform(0, S), rng.uniform(0, S), r, _jitter(rng, col, 20))
    img = img.filter(ImageFilter.GaussianBlur(S * rng.uniform(0.02, 0.05)))
    draw = ImageDraw.Draw(img)
    # blades of grass
    for _ in range(int(rng.integers(8, 40))):
        x0, y0 = rng.uniform(0, S), rng.uniform(S * 0.3, S * 1.1)
        length, lean = S * rng.uniform(0.1, 0.45), rng.normal(0, 0.35)
        x1, y1 = x0 + length * math.sin(lean), y0 - length * math.cos(lean)
        wid = S * rng.uniform(0.006, 0.02)
        col = _jitter(rng, _pick(rng, [(70, 140, 50), (40, 100, 30), (150, 160, 70)], [3, 3, 1]), 20)
        draw.polygon([(x0 - wid, y0), (x0 + wid, y0), (x1, y1)], fill=col)
    return img


def _draw_leaf(draw, rng, S):
    cx, cy = rng.uniform(0, S), rng.uniform(0, S)
    L, W = S * rng.uniform(0.15, 0.4), S * rng.uniform(0.06, 0.15)
    col = _jitter(rng, _pick(rng, [(50, 110, 40), (80, 140, 50), (40, 70, 30)], [1, 1, 1]), 15)
    draw.polygon(_pointed_petal(cx, cy, rng.uniform(0, 2 * np.pi), -L / 2, L, W, n=10), fill=col,
                 outline=_shade(col, 0.7))


def render(cls_index: int, seed: int, index: int, size: int) -> "PIL.Image.Image":  # noqa: F821
    """One synthetic image of class `cls_index`, fully determined by (cls_index, seed, index, size)."""
    from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

    rng = np.random.default_rng([int(seed), int(cls_index), int(index), int(size)])
    cls = CLASS_NAMES[cls_index]
    S = size * SUPERSAMPLE
    img = _background(rng, S)
    draw = ImageDraw.Draw(img)

    style = cls
    ambiguous = rng.uniform() < AMBIGUOUS_SHARE
    colour_cls = cls
    tiny = False
    if ambiguous:
        kind = rng.uniform()
        if kind < 0.5:    # right shape, colours of a neighbouring class
            colour_cls = {"daisy": "sunflowers", "dandelion": "daisy", "roses": "tulips",
                          "sunflowers": "dandelion", "tulips": "roses"}[cls]
        elif kind < 0.75:  # shape of another class in this class's colours
            style = CLASS_NAMES[int(rng.integers(len(CLASS_NAMES)))]
        else:             # tiny and largely hidden
            tiny = True

    n_flowers = 1 if rng.uniform() < 0.75 else int(rng.integers(2, 4))
    for _ in range(n_flowers):
        if tiny:
            R = S * rng.uniform(0.05, 0.09)
        elif n_flowers == 1:
            R = S * rng.uniform(0.3, 0.5)
        else:
            R = S * rng.uniform(0.18, 0.32)
        cx = rng.uniform(S * 0.1, S * 0.9)
        cy = rng.uniform(S * 0.1, S * 0.9)
        DRAWERS[style](draw, rng, cx, cy, R, _petal_colour(rng, colour_cls))

    # occluding leaves in front
    n_leaves = int(rng.integers(0, 4)) + (4 if tiny else 0)
    for _ in range(n_leaves):
        _draw_leaf(draw, rng, S)

    img = img.resize((size, size), Image.BOX)
    if rng.uniform() < 0.35:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.8)))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.15))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.8, 1.15))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.8, 1.15))

    arr = np.asarray(img, dtype=np.float32)
    arr = arr + rng.normal(0, 7, 3).astype(np.float32)              # colour cast
    sigma = rng.uniform(3, 16)
    arr = arr + rng.normal(0, sigma, arr.shape).astype(np.float32)  # pixel noise
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _jpeg(img, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, optimize=False, progressive=False, subsampling=2)
    return buf.getvalue()


def _render_shard(job: tuple) -> list[tuple[int, bytes]]:
    """Worker: draw and JPEG-encode the (class, index) items of one shard. No TensorFlow here."""
    items, seed, size, quality = job
    return [(c, _jpeg(render(c, seed, i, size), quality)) for c, i in items]


def plan(per_class: int, seed: int, shards: int) -> list[list[tuple[int, int]]]:
    """Which (class, index) items go to which shard: a seeded shuffle, cut into near-equal shards."""
    items = [(c, i) for c in range(len(CLASS_NAMES)) for i in range(per_class)]
    order = np.random.default_rng([int(seed), 7919]).permutation(len(items))
    items = [items[k] for k in order]
    shards = max(1, min(shards, len(items)))
    bounds = np.linspace(0, len(items), shards + 1).round().astype(int)
    return [items[bounds[k]:bounds[k + 1]] for k in range(shards)]


def write_synth(out_dir: str, per_class: int = 60, seed: int = 0, size: int = 192, shards: int = 4,
                workers: int | None = None, quality: int = JPEG_QUALITY) -> dict:
    """Write `per_class` synthetic images per flower class as TFRecords in the public layout.

    Files are `out_dir/synth<shard:02d>-<count>.tfrec`; older files of that pattern in `out_dir`
    are replaced. Returns {"files", "counts" (per class name), "total", "class_names", "size", "seed"}.
    """
    import tensorflow as tf

    from data.flowers import encode_example

    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    jobs = [(items, seed, size, quality) for items in plan(per_class, seed, shards)]
    workers = min(len(jobs), workers or os.cpu_count() or 1)
    if workers > 1:
        # spawn, not fork: the parent usually has TensorFlow loaded, which does not survive fork well
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_render_shard, jobs))
    else:
        results = [_render_shard(job) for job in jobs]

    tf.io.gfile.makedirs(out_dir)
    for old in tf.io.gfile.glob(os.path.join(out_dir, f"{FILE_PREFIX}[0-9][0-9]-*.tfrec")):
        tf.io.gfile.remove(old)
    files, counts = [], {name: 0 for name in CLASS_NAMES}
    for k, records in enumerate(results):
        path = os.path.join(out_dir, f"{FILE_PREFIX}{k:02d}-{len(records)}.tfrec")
        with tf.io.TFRecordWriter(path) as writer:
            for c, jpeg in records:
                writer.write(encode_example(jpeg, c, size, size))
                counts[CLASS_NAMES[c]] += 1
        files.append(path)
    return {"files": files, "counts": counts, "total": sum(counts.values()),
            "class_names": list(CLASS_NAMES), "size": size, "seed": seed}
