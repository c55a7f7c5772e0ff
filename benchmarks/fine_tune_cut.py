"""mobilenet_v2: frozen head against fine-tuned top blocks, on validation cuts of the training photos.

    .venv/bin/python benchmarks/fine_tune_cut.py [--seeds 0 1 2] [--unfreeze [block_13_expand ...]]
                                                  [--learning-rates 1e-5 3e-5] [--epochs 10]
                                                  [--split-at block_12_add] [--cache DIR]
                                                  [--head-dropout RATE]

The cheap way to compare the second phase's settings: the frozen lower part of the base (up to
--split-at) runs once per photo and its flipped copy (the model's only augmentation), and every
experiment trains on those activations (kept in --cache for the next invocation). Batch norm stays in inference mode in the whole base, as in
the Trainer, so the upper part run on them computes exactly what the full model computes.
Per cut (benchmarks/cut.py): phase 1 trains the model's head on the frozen base (Adam 1e-3, batch
32, early stopping on the cut's validation accuracy, patience 5, best epoch restored), as the
Trainer does; then for each setting, from that head, phase 2 unfreezes the base from the named layer
on and trains at the given learning rate (`--unfreeze` with no layer: phase 1 only). Prints the
validation accuracy per epoch.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks import common  # noqa: E402  (first: sets TF_USE_LEGACY_KERAS, quiets TensorFlow)
from benchmarks import cut  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import models  # noqa: E402
from models import mobilenet_v2  # noqa: E402

BATCH = 32


def upper_part(features: tf.keras.Model, split_at: str) -> tf.keras.Model:
    """The layers of `features` after `split_at` as a model of their own (the same layer objects)."""
    names = [layer.name for layer in features.layers]
    start = features.get_layer(split_at)
    inputs = tf.keras.Input(start.output.shape[1:])
    tensors = {split_at: inputs}
    for layer in features.layers[names.index(split_at) + 1:]:
        inbound = layer._inbound_nodes[0].inbound_layers
        inbound = inbound if isinstance(inbound, list) else [inbound]
        args = [tensors[source.name] for source in inbound]
        tensors[layer.name] = layer(args if len(args) > 1 else args[0])
    return tf.keras.Model(inputs, [tensors[name] for name in mobilenet_v2.FEATURE_LAYERS])


def activations(part: tf.keras.Model, images: np.ndarray) -> np.ndarray:
    ds = tf.data.Dataset.from_tensor_slices(images).batch(64)
    return np.concatenate([part(tf.cast(b, tf.float32) / 127.5 - 1.0, training=False).numpy() for b in ds])


def flipped_batches(pair: tuple[np.ndarray, np.ndarray], labels: np.ndarray, rng) -> tf.data.Dataset:
    """One epoch: each example as it is or flipped (its flipped copy's activations), shuffled."""
    flip = rng.random(len(labels)) < 0.5
    x = np.where(flip.reshape((-1,) + (1,) * (pair[0].ndim - 1)), pair[1], pair[0])
    order = rng.permutation(len(labels))
    return tf.data.Dataset.from_tensor_slices((x[order], labels[order])).batch(BATCH)


def accuracy(model, x, y) -> float:
    probs = model.predict(x, batch_size=128, verbose=0)
    return float((probs.argmax(1) == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--unfreeze", nargs="*", default=["block_13_expand", "block_15_expand", "block_16_expand"])
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[1e-5, 3e-5, 1e-4])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--image-size", type=int, default=192)
    parser.add_argument("--split-at", default="block_12_add", help="the last frozen layer's output is cached")
    parser.add_argument("--cache", help="folder for the cached activations")
    parser.add_argument("--head-dropout", type=float, help="the head's dropout rate (default: the model's)")
    args = parser.parse_args()

    started = time.time()
    records, labels = cut.pool()
    images = cut.pixels(records, args.image_size)
    model = models.build("mobilenet_v2", args.image_size, 5, str(common.SHARED / "weights"))
    features = model.get_layer("mobilenet_v2_features")
    lower = tf.keras.Model(features.input, features.get_layer(args.split_at).output)
    upper = upper_part(features, args.split_at)
    cached = Path(args.cache or "/nonexistent") / f"{args.split_at}-{args.image_size}.npz"
    if cached.exists():
        low = tuple(np.load(cached)[k] for k in ("plain", "flipped"))
    else:
        low = (activations(lower, images), activations(lower, images[:, :, ::-1]))
        if args.cache:
            np.savez(cached, plain=low[0], flipped=low[1])
    print(f"pool {len(labels)} photos, activations {low[0].shape} in {time.time() - started:.0f} s", flush=True)
    pooled = tuple(np.concatenate([t.mean(axis=(1, 2)) for t in upper.predict(a, batch_size=64, verbose=0)], 1)
                   for a in low)

    head_in = tf.keras.Input(pooled[0].shape[1:])
    x = head_in
    for layer in model.layers[-4:]:  # batch norm, dropout, dense, softmax
        if isinstance(layer, tf.keras.layers.Dropout) and args.head_dropout is not None:
            layer.rate = args.head_dropout
        x = layer(x)
    head = tf.keras.Model(head_in, x)
    top_in = tf.keras.Input(low[0].shape[1:])
    top = tf.keras.Model(top_in, head(tf.keras.layers.Concatenate()(
        [tf.keras.layers.GlobalAveragePooling2D()(t) for t in upper(top_in, training=False)])))
    # Every cut starts from the untrained head: one trained on an earlier cut has seen this cut's
    # validation photos.
    fresh = [w.copy() for w in head.get_weights()]
    for seed in args.seeds:
        val = cut.validation_mask(records, seed)
        rng = np.random.default_rng(seed)
        tf.keras.utils.set_random_seed(seed)
        head.set_weights(fresh)
        head.compile(tf.keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"])
        best, best_weights, wait, curve = -1.0, None, 0, []
        train_pair = (pooled[0][~val], pooled[1][~val])
        for epoch in range(20):
            head.fit(flipped_batches(train_pair, labels[~val], rng), epochs=1, verbose=0)
            acc = accuracy(head, pooled[0][val], labels[val])
            curve.append(acc)
            if acc > best:
                best, best_weights, wait = acc, head.get_weights(), 0
            else:
                wait += 1
                if wait >= 5:
                    break
        head.set_weights(best_weights)
        print(f"cut {seed}: train {int((~val).sum())}, validation {int(val.sum())}; frozen head "
              f"{' '.join(f'{a:.3f}' for a in curve)}; best {best:.3f} at epoch {curve.index(best) + 1}", flush=True)

        phase_one = head.get_weights()
        train_low = (low[0][~val], low[1][~val])
        for first in args.unfreeze:
            for lr in args.learning_rates:
                head.set_weights(phase_one)
                upper.trainable = True
                unfrozen = False
                for layer in features.layers:
                    unfrozen = unfrozen or layer.name == first
                    layer.trainable = unfrozen
                saved = [w.numpy().copy() for w in upper.weights]
                top.compile(tf.keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", ["accuracy"])
                curve, t0 = [], time.time()
                for epoch in range(args.epochs):
                    top.fit(flipped_batches(train_low, labels[~val], rng), epochs=1, verbose=0)
                    curve.append(accuracy(top, low[0][val], labels[val]))
                print(f"cut {seed} from {first} lr {lr:g}: {' '.join(f'{a:.3f}' for a in curve)}; "
                      f"best {max(curve):.3f}, mean of last 5 {np.mean(curve[-5:]):.3f} "
                      f"({(time.time() - t0) / args.epochs:.0f} s/epoch)", flush=True)
                for w, value in zip(upper.weights, saved):
                    w.assign(value)
                upper.trainable = False
    print(f"total {time.time() - started:.0f} s on {common.hardware()}")


if __name__ == "__main__":
    main()
