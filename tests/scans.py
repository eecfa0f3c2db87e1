"""Scanned test documents made here: report text typeset onto A4 pages as images (a title centred,
paragraphs with a two-character indent, a page number at the foot), saved as an image-only PDF,
as PNG/TIFF files, or made to look photographed (turned 2°, uneven light, sensor noise, JPEG).

Used by the OCR tests and by scripts/ocr_accuracy.py; the typeset text of each page is returned
with it, so recognised text can be scored against what was printed.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # Debian fonts-wqy-zenhei (`make browser-deps`)
A4 = (8.27, 11.69)  # inches


def font_available() -> bool:
    return FONT.exists()


def typeset(paragraphs: list[str], dpi: int = 300, point: float = 12, title: str = "",
            first_page: int = 1) -> list[tuple[Image.Image, str]]:
    """Pages (image, the text printed on it, paragraphs on their own lines) of the paragraphs. A
    paragraph's first line keeps its indent (two U+3000) in the printed text, so a piece that
    continues a paragraph from the page before is told by having none."""
    width, height = int(A4[0] * dpi), int(A4[1] * dpi)
    size = int(point / 72 * dpi)
    font = ImageFont.truetype(str(FONT), size)
    title_font = ImageFont.truetype(str(FONT), int(size * 1.5))
    margin = int(dpi * 0.9)
    step = int(size * 1.7)
    pages: list[tuple[Image.Image, str]] = []
    image = draw = None
    y = 0
    printed: list[str] = []

    def new_page():
        nonlocal image, draw, y, printed
        if image is not None:
            finish()
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        y, printed = margin, []

    def finish():
        number = f"- {first_page + len(pages)} -"
        w = draw.textlength(number, font=font)
        draw.text(((width - w) / 2, height - margin * 0.6), number, font=font, fill=0)
        pages.append((image, "\n".join(printed)))

    new_page()
    if title:
        w = draw.textlength(title, font=title_font)
        draw.text(((width - w) / 2, y), title, font=title_font, fill=0)
        y += int(step * 2)
        printed.append(title)
    for paragraph in paragraphs:
        text = "\u3000\u3000" + paragraph  # two ideographic spaces: the first-line indent
        lines = _wrap(draw, text, font, width - 2 * margin)
        piece = []
        for line in lines:
            if y + step > height - margin:
                if piece:
                    printed.append("".join(piece))
                    piece = []
                new_page()
            draw.text((margin, y), line, font=font, fill=0)
            piece.append(line)
            y += step
        printed.append("".join(piece))
    finish()
    return pages


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> list[str]:
    """Lines of text that fit the measure, broken by printed width as a word processor does."""
    lines, line = [], ""
    for ch in text:
        # A closing mark never starts a line (Chinese line-breaking rules): it hangs in the margin.
        if line and draw.textlength(line + ch, font=font) > width and ch not in _NO_LINE_START:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line else lines


_NO_LINE_START = set("，。、；：！？）》」』”’%,.;:!?)")


def photographed(image: Image.Image, seed: int = 1, angle: float = 2.0, quality: int = 45, noise: float = 12,
                 blur: float = 0.8) -> Image.Image:
    """A page as a phone photo of it looks: turned by angle degrees, lit unevenly, slightly blurred,
    with sensor noise (seeded), JPEG-compressed."""
    import numpy as np

    page = image.convert("L").rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=200)
    pixels = np.asarray(page.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float32)
    height, width = pixels.shape
    light = np.linspace(1.0, 0.75, width)[None, :] * np.linspace(1.0, 0.85, height)[:, None]
    grain = np.random.default_rng(seed).normal(0, noise, pixels.shape)
    page = Image.fromarray(np.clip(pixels * light + grain, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def save_pdf(pages: list[Image.Image], path: Path, dpi: int = 300) -> Path:
    """An image-only PDF (no text layer), one page per image, as a scanner writes it."""
    rgb = [p.convert("RGB") for p in pages]
    rgb[0].save(path, "PDF", save_all=True, append_images=rgb[1:], resolution=dpi)
    return path
