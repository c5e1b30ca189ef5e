"""Data layer: pinned registry packages, TFDS builders, prepared splits."""
