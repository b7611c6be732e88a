"""Draw the images of the demo's sample issues (app/issues/demo_sample/images/demo/).

Run after changing a chart: ``.venv/bin/python scripts/demo_images.py``. The PNGs are
committed; the demo never draws at run time. Sized for a 600 px email column, so the
text stays readable when a phone scales them down."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "app" / "issues" / "demo_sample" / "images" / "demo"
W, H = 1000, 560
INK, ACCENT, LIGHT, GRID, BG, MUTED = (
    (34, 34, 34),
    (37, 99, 235),
    (147, 176, 240),
    (225, 225, 225),
    (255,) * 3,
    (90,) * 3,
)
LEFT, BOTTOM, TOP = 130, 470, 120


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


LABEL, SMALL, TITLE = font(34), font(30), font(42)


def canvas(title: str, grid: bool = True) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (W, H), BG)
    draw = ImageDraw.Draw(image)
    draw.text((40, 30), title, fill=INK, font=TITLE)
    if grid:
        for i in range(5):
            y = TOP + i * (BOTTOM - TOP) / 4
            draw.line((LEFT, y, W - 40, y), fill=GRID, width=2)
        draw.line((LEFT, BOTTOM, W - 40, BOTTOM), fill=INK, width=3)
    return image, draw


def latency_accuracy() -> Image.Image:
    image, draw = canvas("Accuracy against latency")
    points = [("XS", 40, 88.1), ("S", 90, 89.6), ("M", 180, 90.4), ("L", 420, 90.9), ("XL", 900, 91.1)]

    def x(ms: float) -> float:
        return LEFT + 50 + (math.log(ms) - math.log(40)) / (math.log(900) - math.log(40)) * (W - LEFT - 150)

    def y(accuracy: float) -> float:
        return BOTTOM - (accuracy - 86) / 6 * (BOTTOM - TOP)

    draw.line([(x(ms), y(acc)) for _, ms, acc in points], fill=ACCENT, width=7)
    for name, ms, acc in points:
        draw.ellipse((x(ms) - 14, y(acc) - 14, x(ms) + 14, y(acc) + 14), fill=ACCENT)
        draw.text((x(ms) - 18, y(acc) - 60), name, fill=INK, font=LABEL)
        draw.text((x(ms) - 40, BOTTOM + 18), f"{ms} ms", fill=MUTED, font=SMALL)
    for accuracy in (86, 89, 92):
        draw.text((20, y(accuracy) - 16), f"{accuracy}%", fill=MUTED, font=SMALL)
    return image


def unseen_words() -> Image.Image:
    image, draw = canvas("Inputs with unseen words, by week")
    values = [1.1, 1.0, 1.2, 1.3, 1.2, 1.4, 2.9, 4.8, 6.1, 6.4]
    width = (W - LEFT - 40) / len(values)
    for i, value in enumerate(values):
        left = LEFT + 10 + i * width
        draw.rectangle(
            (left, BOTTOM - value / 8 * (BOTTOM - TOP), left + width - 18, BOTTOM), fill=ACCENT if value > 2 else LIGHT
        )
    for value in (0, 4, 8):
        draw.text((30, BOTTOM - value / 8 * (BOTTOM - TOP) - 16), f"{value}%", fill=MUTED, font=SMALL)
    draw.text((LEFT + 10, BOTTOM + 18), "10 weeks ago", fill=MUTED, font=SMALL)
    draw.text((W - 200, BOTTOM + 18), "this week", fill=MUTED, font=SMALL)
    draw.text((LEFT + 20, TOP + 10), "new product names →", fill=INK, font=LABEL)
    return image


def evaluation_loop() -> Image.Image:
    image, draw = canvas("Evaluating retrieval on its own", grid=False)
    boxes = [("Questions", 40, 150), ("Retriever", 530, 150), ("Recall at k", 530, 340), ("Judged", 40, 340)]
    for label, left, top in boxes:
        draw.rounded_rectangle(
            (left, top, left + 430, top + 120), radius=22, outline=ACCENT, width=5, fill=(239, 244, 255)
        )
        draw.text((left + 215 - draw.textlength(label, font=LABEL) / 2, top + 40), label, fill=INK, font=LABEL)
    arrows = [((470, 210), (530, 210)), ((745, 270), (745, 340)), ((530, 400), (470, 400)), ((255, 340), (255, 270))]
    for start, end in arrows:
        draw.line((start, end), fill=INK, width=5)
        draw.ellipse((end[0] - 9, end[1] - 9, end[0] + 9, end[1] + 9), fill=INK)
    draw.text((40, 490), "change the chunking, rerun, compare", fill=MUTED, font=SMALL)
    return image


def question_coverage() -> Image.Image:
    image, draw = canvas("Questions answered from the summary", grid=False)
    rows = [("lead-3", 41), ("extractive", 58), ("abstractive", 66), ("human", 79)]
    for i, (name, value) in enumerate(rows):
        top = 130 + i * 100
        draw.text((40, top + 18), name, fill=INK, font=LABEL)
        draw.rectangle((270, top, 270 + value / 100 * 600, top + 74), fill=ACCENT)
        draw.text((285 + value / 100 * 600, top + 18), f"{value}%", fill=INK, font=LABEL)
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in (
        ("latency-accuracy", latency_accuracy),
        ("unseen-words", unseen_words),
        ("evaluation-loop", evaluation_loop),
        ("question-coverage", question_coverage),
    ):
        draw().save(OUT / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()
