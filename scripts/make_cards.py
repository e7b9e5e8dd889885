"""Draw the campaign cards for the 16 Days of Activism into media/cards/.

One card per campaign day (day01.png ... day16.png) and the extra cards of the day 8 thread
(tips-document.png, tips-support.png). Every card is drawn from shapes and text only, so the
output is the same on every run and needs no image assets: `python scripts/make_cards.py`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 675
OUT = Path(__file__).resolve().parent.parent / "media" / "cards"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
START = dt.date(2026, 11, 25)
# Spelt out rather than strftime("%b"), which follows the locale.
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# Near-black on "Orange the World" orange is about 7.5:1; white on the dark panel about 17:1.
ORANGE = (255, 130, 0)
ORANGE_DEEP = (232, 104, 0)
INK = (20, 20, 20)
PANEL = (28, 28, 28)
WHITE = (255, 255, 255)
DIM = (85, 85, 85)
BE_BLACK, BE_YELLOW, BE_RED = (0, 0, 0), (253, 218, 36), (239, 51, 64)

PANEL_WIDTH = 400
TEXT_LEFT = PANEL_WIDTH + 56
TEXT_RIGHT = WIDTH - 56


@dataclass(frozen=True)
class Card:
    file: str
    kicker: str
    headline: str
    subline: str
    day: int | None = None
    badge: str | None = None
    """Large text in the dark panel for cards that are not a day card."""


DAYS: list[tuple[str, str]] = [
    ("Online abuse is real abuse", "Digital violence harms women and girls offline too."),
    ("Cyberstalking is stalking", "Constant messages, tracking and threats are violence."),
    ("Her image. Her consent.", "Sharing intimate images without consent is abuse."),
    ("Deepfakes cause real harm", "Fake sexual images of real women are violence."),
    ("Doxxing puts lives at risk", "Publishing a woman's address is a threat, not a debate."),
    ("Hate speech silences women", "Women must be able to speak in public debate, safely."),
    ("Protect women in public life", "Journalists, politicians and activists are targeted."),
    ("You are not alone", "Document. Report. Reach out for support."),
    ("Girls deserve a safe internet", "Safety by design, education and trusted adults."),
    ("Belgium led the UN resolution", "Human Rights Council, June 2024: end digital violence."),
    ("Platforms must be accountable", "Fast removal, fair reporting and transparency."),
    ("Digital violence is a crime", "Laws must cover what happens online."),
    ("Justice must reach online", "Victims need police, courts and lawyers who act."),
    ("Believe and support survivors", "Listen without blame and point to help."),
    ("Bystanders can act", "Do not share. Report. Support the person targeted."),
    ("Human rights apply online", "10 December, Human Rights Day: #NoExcuse."),
]

EXTRA: list[Card] = [
    Card(
        "tips-document.png",
        "IF YOU ARE TARGETED ONLINE",
        "Keep the evidence",
        "Screenshots with dates, links and account names, saved somewhere safe.",
        badge="1",
    ),
    Card(
        "tips-support.png",
        "IF YOU ARE TARGETED ONLINE",
        "Report and reach out",
        "Report to the platform and the police. Local support services can help.",
        badge="2",
    ),
]


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / "DejaVuSans-Bold.ttf"
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def text_width(draw: ImageDraw.ImageDraw, text: str, size: int) -> float:
    return draw.textlength(text, font=font(size))


def wrap(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(draw, candidate, size) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def fit(
    draw: ImageDraw.ImageDraw, text: str, sizes: range, width: int, max_lines: int
) -> tuple[int, list[str]]:
    """The largest size at which ``text`` wraps into ``max_lines`` lines that fit ``width``."""
    for size in sizes:
        lines = wrap(draw, text, size, width)
        if len(lines) <= max_lines and all(text_width(draw, ln, size) <= width for ln in lines):
            return size, lines
    smallest = sizes[-1]
    return smallest, wrap(draw, text, smallest, width)


def draw_ring(draw: ImageDraw.ImageDraw, centre: tuple[int, int], day: int | None) -> None:
    """Sixteen arc segments around the day number; the days reached so far are orange."""
    x, y = centre
    radius, thickness = 150, 22
    box = (x - radius, y - radius, x + radius, y + radius)
    for segment in range(16):
        start = -90 + segment * 22.5 + 2.5
        colour = ORANGE if day is not None and segment < day else DIM
        draw.arc(box, start, start + 17.5, fill=colour, width=thickness)


def draw_panel(draw: ImageDraw.ImageDraw, card: Card) -> None:
    draw.rectangle((0, 0, PANEL_WIDTH, HEIGHT), fill=PANEL)
    centre = (PANEL_WIDTH // 2, 300)
    draw_ring(draw, centre, card.day)
    label = "DAY" if card.day is not None else "STEP"
    big = str(card.day) if card.day is not None else card.badge or ""
    draw.text((centre[0], centre[1] - 72), label, font=font(34), fill=WHITE, anchor="mm")
    draw.text((centre[0], centre[1] + 14), big, font=font(130), fill=ORANGE, anchor="mm")
    if card.day is not None:
        draw.text((centre[0], centre[1] + 96), "of 16", font=font(30), fill=WHITE, anchor="mm")
        date = START + dt.timedelta(days=card.day - 1)
        stamp = f"{date.day} {MONTHS[date.month - 1]}"
        draw.text((centre[0], 520), stamp, font=font(40), fill=WHITE, anchor="mm")
    draw.text((centre[0], 600), "#16Days", font=font(50), fill=ORANGE, anchor="mm")


def draw_belgium(draw: ImageDraw.ImageDraw) -> None:
    """The tricolour as three bars beside the word 'Belgium', bottom right."""
    size = 40
    word_width = int(text_width(draw, "Belgium", size))
    right, baseline = TEXT_RIGHT, HEIGHT - 52
    draw.text((right, baseline), "Belgium", font=font(size), fill=INK, anchor="rs")
    bars_right = right - word_width - 20
    for index, colour in enumerate((BE_BLACK, BE_YELLOW, BE_RED)):
        left = bars_right - (3 - index) * 18
        draw.rectangle((left, baseline - 44, left + 17, baseline + 4), fill=colour, outline=INK)


def draw_motif(draw: ImageDraw.ImageDraw) -> None:
    """Concentric quarter circles in the top right corner: the campaign's ripple."""
    for step, colour in enumerate((ORANGE_DEEP, ORANGE, ORANGE_DEEP, ORANGE)):
        radius = 230 - step * 50
        draw.ellipse((WIDTH - radius, -radius, WIDTH + radius, radius), fill=colour)


def draw_text(draw: ImageDraw.ImageDraw, card: Card) -> None:
    width = TEXT_RIGHT - TEXT_LEFT
    draw.text((TEXT_LEFT, 70), card.kicker, font=font(26), fill=INK)
    draw.rectangle((TEXT_LEFT, 112, TEXT_LEFT + 120, 120), fill=INK)
    size, lines = fit(draw, card.headline, range(84, 55, -4), width - 40, 3)
    y = 150
    for line in lines:
        draw.text((TEXT_LEFT, y), line, font=font(size), fill=INK)
        y += int(size * 1.12)
    sub_size, sub_lines = fit(draw, card.subline, range(36, 25, -2), width, 2)
    y += 24
    for line in sub_lines:
        draw.text((TEXT_LEFT, y), line, font=font(sub_size), fill=INK)
        y += int(sub_size * 1.3)
    draw.text((TEXT_LEFT, HEIGHT - 52), "ORANGE THE WORLD", font=font(26), fill=INK, anchor="ls")


def render(card: Card) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), ORANGE)
    draw = ImageDraw.Draw(image)
    draw_motif(draw)
    draw_panel(draw, card)
    draw_text(draw, card)
    draw_belgium(draw)
    return image


def save(image: Image.Image, path: Path) -> int:
    # A 64-colour palette keeps anti-aliased text smooth and the file far below Bluesky's 1 MB.
    small = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, format="PNG", optimize=True)
    return path.stat().st_size


def cards() -> list[Card]:
    kicker = "16 DAYS OF ACTIVISM · DIGITAL VIOLENCE"
    days = [
        Card(f"day{day:02d}.png", kicker, headline, subline, day=day)
        for day, (headline, subline) in enumerate(DAYS, start=1)
    ]
    return days + EXTRA


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for card in cards():
        size = save(render(card), OUT / card.file)
        print(f"{card.file}: {size:,} bytes")


if __name__ == "__main__":
    main()
