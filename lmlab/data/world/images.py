"""Image-caption pairs: small rendered scenes of shapes, colours, counts and positions, with
captions in Spanish and English (for contrastive image-text models such as CLIP, Radford et al.
2021, and captioning).

A scene holds one group of identical shapes, or two groups of different colours (left/right or
top/bottom), each of 1 to 3 objects drawn as numpy masks on a black background, never touching, so the caption is exact:
"Hay dos círculos rojos a la izquierda y una cruz azul a la derecha ." /
"There are two red circles on the left and a blue cross on the right ."
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lmlab.errors import ConfigError

# shape: (gender, singular, plural, English)
SHAPES = {"círculo": ("m", "círculo", "círculos", "circle"), "cuadrado": ("m", "cuadrado", "cuadrados", "square"),
          "triángulo": ("m", "triángulo", "triángulos", "triangle"), "cruz": ("f", "cruz", "cruces", "cross")}
# colour: (RGB, m sg, f sg, m pl, f pl, English)
COLOURS = {"rojo": ((230, 25, 25), "rojo", "roja", "rojos", "rojas", "red"),
           "verde": ((25, 200, 25), "verde", "verde", "verdes", "verdes", "green"),
           "azul": ((40, 40, 240), "azul", "azul", "azules", "azules", "blue"),
           "amarillo": ((240, 220, 20), "amarillo", "amarilla", "amarillos", "amarillas", "yellow"),
           "blanco": ((245, 245, 245), "blanco", "blanca", "blancos", "blancas", "white")}
NUMBERS_ES = {1: {"m": "un", "f": "una"}, 2: "dos", 3: "tres"}
NUMBERS_EN = {1: "a", 2: "two", 3: "three"}
POSITIONS = {"izquierda": ("a la izquierda", "on the left"), "derecha": ("a la derecha", "on the right"),
             "arriba": ("arriba", "at the top"), "abajo": ("abajo", "at the bottom")}


@dataclass
class Group:
    shape: str
    colour: str
    count: int
    position: str | None  # None when the scene has one group


@dataclass
class ImageCaption:
    """`image` is (size, size, 3) uint8 RGB."""

    image: np.ndarray
    caption_es: str
    caption_en: str
    groups: list[Group]


def _mask(shape: str, yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, r: float) -> np.ndarray:
    dy, dx = yy - cy, xx - cx
    if shape == "círculo":
        return dy ** 2 + dx ** 2 <= r ** 2
    if shape == "cuadrado":
        return (np.abs(dy) <= 0.8 * r) & (np.abs(dx) <= 0.8 * r)
    if shape == "triángulo":
        return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    return ((np.abs(dx) <= r / 3) & (np.abs(dy) <= r)) | ((np.abs(dy) <= r / 3) & (np.abs(dx) <= r))


def _phrase_es(g: Group) -> str:
    gender, sg, pl, _ = SHAPES[g.shape]
    col = COLOURS[g.colour]
    if g.count == 1:
        words = f"{NUMBERS_ES[1][gender]} {sg} {col[1] if gender == 'm' else col[2]}"
    else:
        words = f"{NUMBERS_ES[g.count]} {pl} {col[3] if gender == 'm' else col[4]}"
    return words + (f" {POSITIONS[g.position][0]}" if g.position else "")


def _phrase_en(g: Group) -> str:
    noun = SHAPES[g.shape][3]
    noun = noun if g.count == 1 else (noun + "es" if noun.endswith("ss") else noun + "s")
    return f"{NUMBERS_EN[g.count]} {COLOURS[g.colour][5]} {noun}" + (f" {POSITIONS[g.position][1]}" if g.position else "")


def captions(groups: list[Group]) -> tuple[str, str]:
    es = "Hay " + " y ".join(_phrase_es(g) for g in groups) + " ."
    en = ("There is " if groups[0].count == 1 else "There are ") + " and ".join(_phrase_en(g) for g in groups) + " ."
    return es, en


def render(groups: list[Group], size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw the groups: each group's region is split into 3 slots, its objects take distinct ones."""
    img = np.zeros((size, size, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    for g in groups:
        y0, y1, x0, x1 = 0.0, float(size), 0.0, float(size)
        if g.position == "izquierda":
            x1 = size / 2
        elif g.position == "derecha":
            x0 = size / 2
        elif g.position == "arriba":
            y1 = size / 2
        elif g.position == "abajo":
            y0 = size / 2
        vertical = (y1 - y0) >= (x1 - x0)
        span = (y1 - y0) if vertical else (x1 - x0)
        cell = span / 3
        r = 0.3 * min(cell, (x1 - x0) if vertical else (y1 - y0))
        for slot in sorted(rng.choice(3, size=g.count, replace=False)):
            if vertical:
                cy, cx = y0 + (slot + 0.5) * cell, (x0 + x1) / 2
            else:
                cy, cx = (y0 + y1) / 2, x0 + (slot + 0.5) * cell
            img[_mask(g.shape, yy, xx, cy, cx, r)] = COLOURS[g.colour][0]
    return img


def image_captions(rng: np.random.Generator, n: int, size: int = 48, p_two: float = 0.5) -> list[ImageCaption]:
    if size < 24:
        raise ConfigError(f"size={size} is too small to draw three shapes", fix="use size >= 24")
    shapes, colours = list(SHAPES), list(COLOURS)
    out = []
    for _ in range(n):
        if rng.random() < p_two:
            axis = ("izquierda", "derecha") if rng.random() < 0.5 else ("arriba", "abajo")
            two_colours = rng.choice(len(colours), size=2, replace=False)  # groups differ in colour
            groups = [Group(shapes[int(rng.integers(len(shapes)))], colours[int(c)], int(rng.integers(1, 4)), pos)
                      for c, pos in zip(two_colours, axis, strict=True)]
        else:
            groups = [Group(shapes[int(rng.integers(len(shapes)))], colours[int(rng.integers(len(colours)))],
                            int(rng.integers(1, 4)), None)]
        es, en = captions(groups)
        out.append(ImageCaption(render(groups, size, rng), es, en, groups))
    return out


def write_image_captions(items: list[ImageCaption], path: str | Path) -> list[dict]:
    """PNG files in `<path stem>_images/` and one JSON row per item (image path relative to `path`)."""
    import matplotlib.image

    path = Path(path)
    folder = path.parent / f"{path.stem}_images"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, item in enumerate(items):
        name = folder / f"{i:06d}.png"
        matplotlib.image.imsave(name, item.image)
        rows.append({"image": str(name.relative_to(path.parent)), "caption_es": item.caption_es,
                     "caption_en": item.caption_en,
                     "groups": [vars(g) for g in item.groups]})
    return rows
