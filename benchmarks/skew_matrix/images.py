"""Image families for the skew matrix, written at run time from seeded code (nothing downloaded).

Photos come from scikit-image's bundled ``skimage.data`` when it is installed, else from a seeded
synthetic scene (gradients, discs and bars); every other family is drawn from those bases. Each
family is a folder of a few small files; ``write_families(root, seed)`` writes them all and
returns ``{family: folder}``. The same seed writes the same bytes (Pillow's encoders are
deterministic for a given version).

Families (files per family in ``COUNTS``):

- ``photos``: random crops of colour photos, 180-420 px, JPEG q85-95.
- ``text``: text-line-like crops, dark glyph strokes on a light, slightly noisy ground, height
  24-48 px, aspect 1:1 to 20:1, PNG.
- ``documents``: mostly-white pages with dark strokes (lines of "words", rules, a box), JPEG q90.
- ``rgba``: photo crops with a soft-edged alpha mask; the RGB under transparent pixels is the photo
  itself (what ``convert("RGB")`` shows), PNG.
- ``gray``: single-channel photos (mode ``L``), JPEG and PNG.
- ``thumbs``: 16 × 16 px thumbnails, PNG and JPEG.
- ``large``: two 2000-4000 px JPEGs (photo crops upscaled, plus grain).
- ``exif``: non-square JPEG photos stored rotated, with EXIF orientation 3, 6 or 8 (and 2).
- ``icc``: JPEG photos tagged with the Adobe RGB (1998)-compatible or ProPhoto profile that
  skewcheck ships (skewcheck/data/icc), pixels stored as they are (so a colour-managed decode
  changes them).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COUNTS = {
    "photos": 8,
    "text": 8,
    "documents": 6,
    "rgba": 8,
    "gray": 8,
    "thumbs": 8,
    "large": 2,
    "exif": 8,
    "icc": 8,
}
FAMILIES = tuple(COUNTS)
JPEG_FAMILIES = {"photos", "documents", "gray", "thumbs", "large", "exif", "icc"}  # some or all files JPEG
ICC_DIR = Path(__file__).resolve().parents[2] / "skewcheck" / "data" / "icc"
COLOR_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "retina")
GRAY_PHOTOS = ("camera", "moon", "coins", "clock", "brick", "grass", "page", "text")
ORIENTATIONS = (3, 6, 8, 2)


def _synthetic(rng: np.random.Generator, h: int = 400, w: int = 520, gray: bool = False) -> np.ndarray:
    """A seeded scene: two-colour gradient, discs, bars and grain (the fallback without skimage)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (xx / w)[..., None]
    img = c0 * (1 - t) + c1 * t
    for _ in range(6):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(15, 90)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
    for _ in range(4):
        x0 = int(rng.uniform(0, w - 20))
        img[:, x0 : x0 + int(rng.uniform(3, 20))] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 6, img.shape)
    out = np.clip(img, 0, 255).astype(np.uint8)
    return out.mean(-1).astype(np.uint8) if gray else out


def photo_bases(rng: np.random.Generator, gray: bool = False) -> list[np.ndarray]:
    """The bundled photos (uint8, RGB or L), or synthetic scenes when scikit-image is missing."""
    try:
        import skimage.data as data
    except ImportError:
        return [_synthetic(rng, gray=gray) for _ in range(6)]
    out = []
    for name in GRAY_PHOTOS if gray else COLOR_PHOTOS:
        try:
            a = np.asarray(getattr(data, name)())
        except Exception:  # noqa: BLE001, S112 - a photo this skimage build lacks (or would download)
            continue
        if a.dtype != np.uint8:
            continue
        if gray and a.ndim == 3:
            a = np.asarray(Image.fromarray(a[..., :3]).convert("L"))
        if not gray and a.ndim == 2:
            a = np.repeat(a[..., None], 3, -1)
        out.append(a[..., :3] if a.ndim == 3 else a)
    return out or [_synthetic(rng, gray=gray) for _ in range(6)]


def _crop(rng: np.random.Generator, base: np.ndarray, h: int, w: int) -> np.ndarray:
    """A random crop of ``h × w`` (the base is resized up first when it is smaller)."""
    bh, bw = base.shape[:2]
    if bh < h or bw < w:
        k = max(h / bh, w / bw) * 1.05
        base = np.asarray(Image.fromarray(base).resize((int(bw * k) + 1, int(bh * k) + 1), Image.BICUBIC))
        bh, bw = base.shape[:2]
    y, x = int(rng.integers(0, bh - h + 1)), int(rng.integers(0, bw - w + 1))
    return np.ascontiguousarray(base[y : y + h, x : x + w])


def _size(rng: np.random.Generator, lo: int, hi: int) -> tuple[int, int]:
    return int(rng.integers(lo, hi)), int(rng.integers(lo, hi))


def _save(im: Image.Image, path: Path, **kw: object) -> None:
    im.save(path, **kw)


def _photos(rng, folder, n, bases):
    for i in range(n):
        h, w = _size(rng, 180, 420)
        im = Image.fromarray(_crop(rng, bases[i % len(bases)], h, w))
        _save(im, folder / f"photo_{i:02d}.jpg", quality=int(rng.integers(85, 96)))


def _glyph_line(rng: np.random.Generator, h: int, w: int, ink: tuple, paper: tuple) -> Image.Image:
    """A line of pseudo-glyphs: strokes, arcs and dots, like a cropped text line."""
    im = Image.new("RGB", (w, h), paper)
    d = ImageDraw.Draw(im)
    x, stroke = int(h * 0.2), max(1, h // 12)
    while x < w - h * 0.3:
        gw = int(rng.integers(h // 4, h // 2 + 1))
        top, bot = int(h * rng.uniform(0.15, 0.35)), int(h * rng.uniform(0.7, 0.85))
        for _ in range(int(rng.integers(1, 4))):
            shape = int(rng.integers(0, 3))
            if shape == 0:
                xa = x + int(rng.integers(0, gw))
                d.line([(xa, top), (xa + int(rng.integers(-3, 4)), bot)], fill=ink, width=stroke)
            elif shape == 1:
                d.arc(
                    [x, top, x + gw, bot], int(rng.integers(0, 360)), int(rng.integers(0, 360)), fill=ink, width=stroke
                )
            else:
                d.line([(x, (top + bot) // 2), (x + gw, (top + bot) // 2)], fill=ink, width=stroke)
        x += gw + int(rng.integers(1, max(2, h // 6)))
        if rng.random() < 0.15:
            x += h // 2  # a word gap
    return im


def _text(rng, folder, n, bases):
    for i in range(n):
        h = int(rng.integers(24, 49))
        aspect = 1 + (19 * i / max(1, n - 1))  # 1:1 to 20:1 across the family
        paper = tuple(int(v) for v in rng.integers(200, 256, 3))
        ink = tuple(int(v) for v in rng.integers(0, 90, 3))
        im = _glyph_line(rng, h, int(h * aspect), ink, paper)
        a = np.asarray(im).astype(np.float32) + rng.normal(0, 4, (h, int(h * aspect), 3))
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
        _save(im, folder / f"line_{i:02d}.png")


def _documents(rng, folder, n, bases):
    for i in range(n):
        w, h = int(rng.integers(240, 340)), int(rng.integers(320, 440))
        page = Image.new("RGB", (w, h), (255, 255, 255))
        y = int(rng.integers(15, 30))
        while y < h - 30:
            lh = int(rng.integers(9, 15))
            line = _glyph_line(rng, lh, int(w * rng.uniform(0.5, 0.9)), (20, 20, 30), (255, 255, 255))
            page.paste(line, (int(rng.integers(10, 25)), y))
            y += lh + int(rng.integers(4, 12))
        d = ImageDraw.Draw(page)
        if i % 2:
            d.rectangle([20, h // 2, w - 20, h // 2 + 40], outline=(0, 0, 0), width=2)
        d.line([(15, h - 20), (w - 15, h - 20)], fill=(60, 60, 60), width=1)
        _save(page, folder / f"doc_{i:02d}.jpg", quality=90)


def _rgba(rng, folder, n, bases):
    for i in range(n):
        h, w = _size(rng, 160, 320)
        rgb = _crop(rng, bases[i % len(bases)], h, w)
        yy, xx = np.mgrid[0:h, 0:w]
        cy, cx, r = h * rng.uniform(0.35, 0.65), w * rng.uniform(0.35, 0.65), min(h, w) * rng.uniform(0.25, 0.45)
        dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        alpha = np.clip((r - dist) / 6 + 0.5, 0, 1) * 255  # opaque disc, soft edge, transparent corners
        rgba = np.dstack([rgb, alpha.astype(np.uint8)])
        _save(Image.fromarray(rgba, "RGBA"), folder / f"cutout_{i:02d}.png")


def _gray(rng, folder, n, bases):
    grays = photo_bases(rng, gray=True)
    for i in range(n):
        h, w = _size(rng, 160, 380)
        im = Image.fromarray(_crop(rng, grays[i % len(grays)], h, w), "L")
        if i % 2:
            _save(im, folder / f"gray_{i:02d}.png")
        else:
            _save(im, folder / f"gray_{i:02d}.jpg", quality=90)


def _thumbs(rng, folder, n, bases):
    for i in range(n):
        side = int(rng.integers(64, 200))
        im = Image.fromarray(_crop(rng, bases[i % len(bases)], side, side)).resize((16, 16), Image.LANCZOS)
        if i % 2:
            _save(im, folder / f"thumb_{i:02d}.png")
        else:
            _save(im, folder / f"thumb_{i:02d}.jpg", quality=92)


def _large(rng, folder, n, bases):
    for i in range(n):
        w = int(rng.integers(2000, 4001))
        h = int(w * rng.uniform(0.6, 0.8))
        small = _crop(rng, bases[i % len(bases)], 300, int(300 * w / h))
        big = np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC)).astype(np.int16)
        big = big + rng.integers(-4, 5, big.shape, dtype=np.int16)  # grain, so edges are not all smooth
        _save(Image.fromarray(np.clip(big, 0, 255).astype(np.uint8)), folder / f"large_{i:02d}.jpg", quality=90)


_ROTATE = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def _exif(rng, folder, n, bases):
    for i in range(n):
        h, w = int(rng.integers(180, 260)), int(rng.integers(280, 380))  # landscape, so a quarter turn shows
        upright = Image.fromarray(_crop(rng, bases[i % len(bases)], h, w))
        tag = ORIENTATIONS[i % len(ORIENTATIONS)]
        stored = upright.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if tag == 2 else upright.transpose(_ROTATE[tag])
        exif = Image.Exif()
        exif[0x0112] = tag
        _save(stored, folder / f"exif{tag}_{i:02d}.jpg", quality=90, exif=exif.tobytes())


def _icc(rng, folder, n, bases):
    profiles = sorted(ICC_DIR.glob("*.icc"))
    if not profiles:  # pragma: no cover - the package ships them
        from PIL import ImageCms

        buf = io.BytesIO()
        buf.write(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
        blobs = [buf.getvalue()]
    else:
        blobs = [p.read_bytes() for p in profiles]
    for i in range(n):
        h, w = _size(rng, 180, 360)
        im = Image.fromarray(_crop(rng, bases[i % len(bases)], h, w))
        _save(im, folder / f"icc_{i:02d}.jpg", quality=92, icc_profile=blobs[i % len(blobs)])


WRITERS = {
    "photos": _photos,
    "text": _text,
    "documents": _documents,
    "rgba": _rgba,
    "gray": _gray,
    "thumbs": _thumbs,
    "large": _large,
    "exif": _exif,
    "icc": _icc,
}


def write_families(root: Path, seed: int, families: tuple[str, ...] = FAMILIES) -> dict[str, Path]:
    """Write each family into ``root/<family>/`` (seeded per family) and return the folders."""
    root = Path(root)
    bases = None
    out = {}
    for index, family in enumerate(FAMILIES):
        if family not in families:
            continue
        rng = np.random.default_rng([seed, index])
        if bases is None:
            bases = photo_bases(np.random.default_rng([seed, 99]))
        folder = root / family
        folder.mkdir(parents=True, exist_ok=True)
        WRITERS[family](rng, folder, COUNTS[family], bases)
        out[family] = folder
    return out


def source_name() -> str:
    """Where the photos came from, for the docs page."""
    try:
        import skimage

        return f"scikit-image {skimage.__version__} skimage.data"
    except ImportError:
        return "seeded synthetic scenes (scikit-image not installed)"
