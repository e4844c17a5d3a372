"""The onboarding poster: an A4 PDF (to print) and a PNG (to share), with the deep link's QR code.

The QR code comes from segno and the PDF from fpdf2; the PNG is the same layout drawn with
Pillow. Text comes from the message library (domain.onboarding.poster_text); the fonts are the
DejaVu faces matplotlib ships, so no system font is needed and every Indonesian character shows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import segno
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from domain.onboarding import PosterText

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
REGULAR = _FONTS / "DejaVuSans.ttf"
BOLD = _FONTS / "DejaVuSans-Bold.ttf"
INK = (31, 41, 51)
ACCENT = (11, 93, 46)
A4_MM = (210.0, 297.0)
PNG_DPI = 150


@dataclass(frozen=True)
class Poster:
    text: PosterText
    bot_name: str
    link: str


def qr_png(link: str, scale: int = 10) -> bytes:
    """The link as a QR code (error correction M: survives a crease or a thumb), as PNG."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


# The layout, in millimetres on A4, shared by the PDF and the PNG.
MARGIN = 18.0
QR_SIZE = 110.0
Y_BOT = 20.0
Y_TITLE = 30.0
Y_PLACE = 50.0
Y_QR = 66.0
Y_LINK = Y_QR + QR_SIZE + 3
Y_STEPS = Y_LINK + 14
Y_FOOTER = 268.0


def poster_pdf(poster: Poster) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", str(REGULAR))
    pdf.add_font("dejavu", "B", str(BOLD))
    pdf.add_page()
    width = A4_MM[0] - 2 * MARGIN
    pdf.set_text_color(*ACCENT)
    pdf.set_font("dejavu", "B", 16)
    pdf.set_xy(MARGIN, Y_BOT)
    pdf.cell(width, 8, poster.bot_name, align="C")
    pdf.set_text_color(*INK)
    pdf.set_font("dejavu", "B", 30)
    pdf.set_xy(MARGIN, Y_TITLE)
    pdf.multi_cell(width, 13, poster.text.title, align="C")
    pdf.set_font("dejavu", "", 16)
    pdf.set_xy(MARGIN, Y_PLACE)
    pdf.multi_cell(width, 8, poster.text.place, align="C")
    pdf.image(io.BytesIO(qr_png(poster.link)), x=(A4_MM[0] - QR_SIZE) / 2, y=Y_QR, w=QR_SIZE)
    pdf.set_font("dejavu", "", 10)
    pdf.set_xy(MARGIN, Y_LINK)
    pdf.cell(width, 6, poster.link, align="C", link=poster.link)
    y = Y_STEPS
    for number, step in enumerate(poster.text.steps, start=1):
        pdf.set_text_color(*ACCENT)
        pdf.set_font("dejavu", "B", 22)
        pdf.set_xy(MARGIN, y)
        pdf.cell(12, 10, str(number))
        pdf.set_text_color(*INK)
        pdf.set_font("dejavu", "", 14)
        pdf.set_xy(MARGIN + 12, y + 1)
        pdf.multi_cell(width - 12, 7, step)
        y = max(pdf.get_y(), y + 10) + 5
    pdf.set_font("dejavu", "", 10)
    pdf.set_xy(MARGIN, Y_FOOTER)
    pdf.multi_cell(width, 5, poster.text.footer, align="C")
    return bytes(pdf.output())


def _px(mm: float) -> int:
    return round(mm / 25.4 * PNG_DPI)


def _font(path: Path, points: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size=round(points / 72 * PNG_DPI))


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and draw.textlength(candidate, font=font) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def _centered(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont,
    y: int,
    color: tuple[int, ...],
) -> int:
    width = _px(A4_MM[0] - 2 * MARGIN)
    step = round(font.size * 1.25)
    for line in _wrap(draw, text, font, width):
        draw.text((_px(A4_MM[0]) // 2, y), line, font=font, fill=color, anchor="ma")
        y += step
    return y


def poster_png(poster: Poster) -> bytes:
    image = Image.new("RGB", (_px(A4_MM[0]), _px(A4_MM[1])), "white")
    draw = ImageDraw.Draw(image)
    _centered(draw, poster.bot_name, _font(BOLD, 16), _px(Y_BOT), ACCENT)
    _centered(draw, poster.text.title, _font(BOLD, 30), _px(Y_TITLE), INK)
    _centered(draw, poster.text.place, _font(REGULAR, 16), _px(Y_PLACE), INK)
    qr = Image.open(io.BytesIO(qr_png(poster.link))).convert("RGB")
    # Nearest neighbour keeps the modules sharp; a blurred QR code reads badly.
    qr = qr.resize((_px(QR_SIZE), _px(QR_SIZE)), Image.Resampling.NEAREST)
    image.paste(qr, ((image.width - qr.width) // 2, _px(Y_QR)))
    _centered(draw, poster.link, _font(REGULAR, 10), _px(Y_LINK), INK)
    y = _px(Y_STEPS)
    number_font, step_font = _font(BOLD, 22), _font(REGULAR, 14)
    indent = _px(MARGIN + 12)
    for number, step in enumerate(poster.text.steps, start=1):
        draw.text((_px(MARGIN), y), str(number), font=number_font, fill=ACCENT)
        line_y = y + _px(1)
        for line in _wrap(draw, step, step_font, _px(A4_MM[0] - MARGIN) - indent):
            draw.text((indent, line_y), line, font=step_font, fill=INK)
            line_y += round(step_font.size * 1.25)
        y = max(line_y, y + _px(10)) + _px(5)
    _centered(draw, poster.text.footer, _font(REGULAR, 10), _px(Y_FOOTER), INK)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(PNG_DPI, PNG_DPI))
    return buffer.getvalue()
