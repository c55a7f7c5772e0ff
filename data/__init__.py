"""Flower data: the TFRecord layout, converters, the synthetic set and the embedded default data."""
