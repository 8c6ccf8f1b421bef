"""Generate the image fixtures used by the image_example_gen tests.

Every image is a small crop/rescale of one of the two real photos that ship
with scikit-learn (``china.jpg``: a pagoda above a lake and trees, and
``flower.jpg``: a dahlia), so the fixtures hold real photographic content
while staying a few KB each.

Running ``python testdata/make_testdata.py`` (from anywhere) deletes and
recreates, next to this script:

* ``images/<class>/...``: a flat layout with classes ``flower``, ``pagoda``
  and ``garden``, in JPEG, PNG, GIF and BMP, with awkward names (nested and
  Unicode folders, spaces, upper-case, wrong or missing extensions) and a set
  of files an ingest must skip (text, hidden, truncated, empty, TIFF, ...).
* ``presplit/{train,eval}/<class>/...``: a pre-split layout in which the
  ``garden`` class is deliberately missing from ``eval``.
* ``MANIFEST.json``: one entry per file written, with its class, real format,
  the shape ``tf.io.decode_image(..., expand_animations=False)`` returns and
  the expected ingest outcome (``ok`` or a skip reason).

After writing, every file is checked with TensorFlow: ``ok`` images must
decode (their recorded shape is TensorFlow's), the bad ones must fail.
Output is deterministic: fixed crops, a fixed seed, no timestamps.
"""

import io
import json
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_image

HERE = Path(__file__).resolve().parent
OUTPUT_DIRS = ("images", "presplit")
MANIFEST = HERE / "MANIFEST.json"
SEED = 20240601
PHOTOS = {name: Image.fromarray(load_sample_image(f"{name}.jpg")) for name in ("china", "flower")}
# Where each class lives in its photo, as a (left, top, right, bottom) box.
CLASS_REGIONS = {
    "flower": ("flower", (160, 75, 450, 365)),  # the dahlia
    "pagoda": ("china", (60, 20, 360, 260)),  # upper part: the tower
    "garden": ("china", (380, 270, 640, 427)),  # lower part: shore, trees
}


class Crop(NamedTuple):
    """One image to write: where to crop it from and how to encode it."""

    path: str  # relative to testdata/
    photo: str  # "china" or "flower"
    box: tuple  # (left, top, right, bottom) in the 640x427 photo
    size: tuple  # output (width, height)
    kind: str  # a key of SAVE_ARGS


# kind -> (Pillow format, save options)
SAVE_ARGS = {
    "jpeg": ("JPEG", {"quality": 85}),
    "jpeg_progressive": ("JPEG", {"quality": 85, "progressive": True}),
    "jpeg_gray": ("JPEG", {"quality": 85}),
    "png": ("PNG", {}),
    "png_rgba": ("PNG", {}),
    "png_gray": ("PNG", {}),
    "png_palette": ("PNG", {}),
    "gif": ("GIF", {}),
    "gif_animated": ("GIF", {"save_all": True, "duration": 200, "loop": 0}),
    "bmp": ("BMP", {}),
    "tiff": ("TIFF", {}),
}

F, C = "flower", "china"  # short photo names for the table below
# The good images of the flat layout, images/<class>/...
IMAGES = [
    Crop("images/flower/dahlia_center.jpg", F, (235, 150, 385, 300), (64, 64), "jpeg"),
    Crop("images/flower/dahlia_full.jpg", F, (160, 75, 450, 365), (96, 96), "jpeg"),
    Crop("images/flower/petals_left.png", F, (165, 120, 285, 280), (36, 48), "png"),
    Crop("images/flower/petals_alpha.png", F, (300, 90, 440, 230), (48, 48), "png_rgba"),
    Crop("images/flower/leaves_gray.png", F, (0, 0, 160, 120), (64, 48), "png_gray"),
    Crop("images/flower/bud.gif", F, (285, 370, 475, 427), (80, 24), "gif"),
    Crop("images/flower/dahlia.bmp", F, (170, 80, 450, 360), (40, 40), "bmp"),
    Crop("images/flower/close ups/macro_01.jpg", F, (280, 180, 340, 240), (60, 60), "jpeg_progressive"),
    Crop("images/flower/close ups/macro_02.PNG", F, (330, 230, 410, 310), (40, 40), "png"),
    Crop("images/pagoda/roof.jpg", C, (90, 60, 330, 140), (96, 32), "jpeg"),
    Crop("images/pagoda/spire.JPG", C, (160, 20, 250, 110), (48, 48), "jpeg"),
    Crop("images/pagoda/tower.png", C, (60, 20, 360, 260), (60, 48), "png"),
    Crop("images/pagoda/eaves_palette.png", C, (80, 130, 340, 230), (78, 30), "png_palette"),
    Crop("images/pagoda/mislabeled.jpg", C, (100, 180, 300, 250), (80, 28), "png"),
    Crop("images/pagoda/top_animated.gif", C, (130, 20, 290, 140), (64, 48), "gif_animated"),
    Crop("images/pagoda/tower.bmp", C, (60, 20, 360, 260), (40, 32), "bmp"),
    Crop("images/pagoda/pagoda_no_extension", C, (200, 100, 330, 230), (48, 48), "jpeg"),
    Crop("images/pagoda/balcony.jpg", C, (90, 180, 330, 240), (96, 24), "jpeg"),
    Crop("images/pagoda/skyline.jpg", C, (250, 150, 520, 240), (90, 30), "jpeg"),
    Crop("images/garden/trees.jpg", C, (0, 340, 170, 427), (68, 35), "jpeg"),
    Crop("images/garden/Gärten am See/blüte 01.jpg", C, (420, 290, 560, 427), (56, 54), "jpeg"),
    Crop("images/garden/Gärten am See/ufer 02.png", C, (380, 250, 600, 340), (66, 27), "png"),
    Crop("images/garden/lake.PNG", C, (390, 230, 590, 330), (60, 30), "png"),
    Crop("images/garden/shrubs.gif", C, (380, 290, 640, 427), (64, 34), "gif"),
    Crop("images/garden/treeline.bmp", C, (540, 260, 640, 427), (30, 50), "bmp"),
    Crop("images/garden/canopy_gray.jpg", C, (380, 330, 640, 427), (96, 36), "jpeg_gray"),
    Crop("images/garden/hedge.jpg", C, (0, 350, 170, 427), (66, 30), "jpeg"),
    Crop("images/garden/foliage.jpg", C, (560, 300, 640, 427), (30, 48), "jpeg"),
]

# split -> class -> kinds of the images to put there (one image per kind).
PRESPLIT = {
    "train": {
        "flower": ["jpeg", "png", "gif", "bmp"],
        "garden": ["jpeg", "png", "jpeg_progressive", "bmp"],
        "pagoda": ["jpeg", "png_palette", "gif", "jpeg"],
    },
    "eval": {"flower": ["jpeg", "png"], "pagoda": ["jpeg", "gif"]},  # no garden
}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif", "bmp": "bmp", "tiff": "tiff"}


def presplit_crops(rng):
    """Return seeded random square crops from each class region for presplit/."""
    crops = []
    for split, classes in PRESPLIT.items():
        for cls, kinds in classes.items():
            photo, (left, top, right, bottom) = CLASS_REGIONS[cls]
            for i, kind in enumerate(kinds, 1):
                side = int(rng.integers(60, min(right - left, bottom - top)))
                x = int(rng.integers(left, right - side + 1))
                y = int(rng.integers(top, bottom - side + 1))
                out = int(rng.integers(32, 65))
                name = f"presplit/{split}/{cls}/{cls}_{i:02d}.{EXTENSIONS[kind.split('_')[0]]}"
                crops.append(Crop(name, photo, (x, y, x + side, y + side), (out, out), kind))
    return crops


def render(crop):
    """Cut, resize and colour-convert one crop; returns the Pillow image."""
    img = PHOTOS[crop.photo].crop(crop.box).resize(crop.size, Image.LANCZOS)
    if crop.kind in ("jpeg_gray", "png_gray"):
        return img.convert("L")
    if crop.kind == "png_rgba":  # left-to-right fade to transparent
        alpha = np.linspace(255, 32, img.width).astype(np.uint8)
        img.putalpha(Image.fromarray(np.tile(alpha, (img.height, 1))))
    if crop.kind == "png_palette":
        return img.quantize(colors=32)
    return img


def encode(crop):
    """Return the file bytes for one crop."""
    fmt, options = SAVE_ARGS[crop.kind]
    img, buf = render(crop), io.BytesIO()
    if crop.kind == "gif_animated":  # second frame pans 16 px to the right
        left, top, right, bottom = crop.box
        panned = crop._replace(box=(left + 16, top, right + 16, bottom))
        options = dict(options, append_images=[render(panned)])
    img.save(buf, fmt, **options)
    return buf.getvalue()


def cut_inside_idat(png):
    """Truncate PNG bytes halfway through the first IDAT chunk (so no IEND)."""
    pos = 8  # skip the signature
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        if png[pos + 4 : pos + 8] == b"IDAT":
            return png[: pos + 8 + length // 2]
        pos += 12 + length  # length + type + data + CRC
    raise ValueError("no IDAT chunk")


def bad_files(rng):
    """Return (path, bytes, expected) for files the ingest must skip."""
    jpeg = encode(Crop("", F, (200, 120, 420, 340), (64, 64), "jpeg"))
    png = encode(Crop("", C, (100, 40, 300, 200), (64, 48), "png"))
    hidden = encode(Crop("", C, (0, 345, 96, 427), (48, 41), "jpeg"))
    tiff = encode(Crop("", F, (230, 150, 390, 310), (32, 32), "tiff"))
    return [
        ("images/README.txt", b"Test fixtures; see testdata/README.md.\n", "not_an_image"),
        ("images/flower/notes.txt", b"Dahlia crops from sklearn's flower.jpg.\n", "not_an_image"),
        ("images/pagoda/.DS_Store", b"\x00\x00\x00\x01Bud1" + rng.bytes(24), "hidden"),
        ("images/garden/.hidden.jpg", hidden, "hidden"),
        ("images/flower/truncated.jpg", jpeg[: int(len(jpeg) * 0.6)], "corrupt"),
        ("images/pagoda/truncated.png", cut_inside_idat(png), "corrupt"),
        ("images/garden/empty.png", b"", "corrupt"),
        # TensorFlow cannot decode a TIFF; the ingest transcodes it to PNG.
        ("images/flower/scan.tiff", tiff, "transcoded"),
        ("images/pagoda/bad_header.gif", b"GIF89a" + rng.bytes(58), "corrupt"),
    ]


def sniff_format(data):
    """Return the container format from the magic bytes, or None."""
    magics = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png", b"GIF8": "gif", b"BM": "bmp"}
    return next((fmt for magic, fmt in magics.items() if data.startswith(magic)), None)


def class_of(path):
    """Return the class folder of a path under images/ or presplit/<split>/."""
    parts = Path(path).parts
    depth = 1 if parts[0] == "images" else 2
    return parts[depth] if len(parts) > depth + 1 else None


def write(path, data, expected):
    """Write one file under testdata/ and return its manifest entry."""
    target = HERE / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    shape = {"height": None, "width": None, "channels": None}  # filled in by verify()
    return {"path": path, "class": class_of(path), "format": sniff_format(data), **shape, "expected": expected}


def verify(entries):
    """Decode every file with TensorFlow, filling in shapes of ``ok`` images.

    ``ok`` images (and the valid-but-hidden JPEG) must decode, with the same
    height/width Pillow sees; not_an_image/corrupt/unsupported files must fail.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    for entry in entries:
        data = (HERE / entry["path"]).read_bytes()
        must_decode = entry["expected"] == "ok" or (entry["expected"] == "hidden" and entry["format"])
        if entry["expected"] == "transcoded":  # Published as Pillow shows it.
            with Image.open(HERE / entry["path"]) as img:
                entry.update(height=img.height, width=img.width, channels=len(img.getbands()))
        try:
            shape = tf.io.decode_image(data, expand_animations=False).shape
        except (tf.errors.OpError, ValueError) as err:
            assert not must_decode, f"{entry['path']}: TF failed: {err}"
            continue
        assert must_decode or entry["expected"] == "hidden", f"{entry['path']}: TF decoded it as {shape}"
        if entry["expected"] == "ok":
            with Image.open(HERE / entry["path"]) as img:
                assert (shape[0], shape[1]) == (img.height, img.width), entry["path"]
            entry.update(height=int(shape[0]), width=int(shape[1]), channels=int(shape[2]))


def main():
    """Recreate images/, presplit/ and MANIFEST.json, then verify them."""
    for name in OUTPUT_DIRS:
        shutil.rmtree(HERE / name, ignore_errors=True)
    rng = np.random.default_rng(SEED)
    entries = [write(c.path, encode(c), "ok") for c in IMAGES + presplit_crops(rng)]
    entries += [write(path, data, expected) for path, data, expected in bad_files(rng)]
    entries.sort(key=lambda e: e["path"])
    verify(entries)
    MANIFEST.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    total = sum((HERE / e["path"]).stat().st_size for e in entries)
    ok = sum(e["expected"] == "ok" for e in entries)
    print(f"wrote {len(entries)} files ({ok} ok, {len(entries) - ok} to skip), {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
