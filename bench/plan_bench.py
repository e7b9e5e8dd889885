"""Planning benchmark: how long validate + plan + JSON preview take, against parsing alone.

Generates a realistic campaign (N embassies x 3 platforms x 64 posts: 4 a day for 16 days) into
a temporary folder, then, for each size, in a fresh Python process per repetition so that no
cache is warm:

- parses the YAML alone: ``sourcemap.parse_yaml`` (the loader's own parse), a plain
  ruamel round-trip load, and PyYAML's ``safe_load``, pure Python and libyaml
  (``CSafeLoader``: the yardstick of the issue's goal, validate + plan <= 10x its parse);
- runs ``scheduler.service.validate_file`` (read, parse, model, checks, plan, delivery checks);
- writes the JSON preview (``select`` + ``summarize_plan`` + ``csv_json.json_chunks``) to a
  sink that keeps nothing, a piece at a time, as ``campaign preview --format json`` does.

Then it runs ``campaign preview FILE --format json > /dev/null`` once as a whole process: its
wall and CPU time and its peak RSS (the memory goal: <= 300 MB at 384,000 deliveries). The load
average is printed before and after.

Usage: python bench/plan_bench.py [--sizes 200,2000] [--repeat N] [--profile] [--tracemalloc]
See docs/performance.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

POSTS_PER_ACCOUNT = 64
PLATFORMS = ("x", "mastodon", "bluesky")
WINDOW_START = "2026-11-25"
DAYS = 16
SLOTS = {"morning": "09:00", "midday": "12:30", "afternoon": "15:45", "evening": "18:15"}
THREAD_DAYS = {8: "wave-1", 12: "wave-2"}
"""On these days one wave of embassies posts a 2-part thread in place of its last two posts."""
SITE = "https://diplomatie.belgium.be/en/16days"


# --- The generated campaign ---------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    country: str
    city: str
    timezone: str
    region: str
    languages: tuple[str, ...]


# Real IANA zones, among them the :30 and :45 offsets (Kolkata, Kathmandu, Tehran, Kabul, Yangon,
# Adelaide, Eucla, Chatham, St John's, Marquesas) and the extremes (Kiritimati, Pago Pago).
PLACES = (
    Place("Japan", "Tokyo", "Asia/Tokyo", "asia-pacific", ("en",)),
    Place("India", "New Delhi", "Asia/Kolkata", "asia-pacific", ("en",)),
    Place("Nepal", "Kathmandu", "Asia/Kathmandu", "asia-pacific", ("en",)),
    Place("Iran", "Tehran", "Asia/Tehran", "middle-east", ("fr", "en")),
    Place("Afghanistan", "Kabul", "Asia/Kabul", "asia-pacific", ("en",)),
    Place("Myanmar", "Yangon", "Asia/Yangon", "asia-pacific", ("en",)),
    Place("Australia", "Canberra", "Australia/Sydney", "asia-pacific", ("en",)),
    Place("Australia", "Adelaide", "Australia/Adelaide", "asia-pacific", ("en",)),
    Place("Australia", "Eucla", "Australia/Eucla", "asia-pacific", ("en",)),
    Place("New Zealand", "Wellington", "Pacific/Auckland", "asia-pacific", ("en",)),
    Place("New Zealand", "Waitangi", "Pacific/Chatham", "asia-pacific", ("en",)),
    Place("Canada", "Ottawa", "America/Toronto", "americas", ("en", "fr")),
    Place("Canada", "Montréal", "America/Toronto", "americas", ("fr", "en")),
    Place("Canada", "St. John's", "America/St_Johns", "americas", ("en", "fr")),
    Place("French Polynesia", "Nuku Hiva", "Pacific/Marquesas", "asia-pacific", ("fr", "en")),
    Place("Kiribati", "Kiritimati", "Pacific/Kiritimati", "asia-pacific", ("en",)),
    Place("American Samoa", "Pago Pago", "Pacific/Pago_Pago", "asia-pacific", ("en",)),
    Place("Netherlands", "The Hague", "Europe/Amsterdam", "europe", ("nl", "en")),
    Place("France", "Paris", "Europe/Paris", "europe", ("fr", "en")),
    Place("Luxembourg", "Luxembourg", "Europe/Luxembourg", "europe", ("fr", "nl", "en")),
    Place("Germany", "Berlin", "Europe/Berlin", "europe", ("de", "en")),
    Place("United Kingdom", "London", "Europe/London", "europe", ("en",)),
    Place("Türkiye", "Ankara", "Europe/Istanbul", "europe", ("en", "fr")),
    Place("Senegal", "Dakar", "Africa/Dakar", "africa", ("fr", "en")),
    Place("DR Congo", "Kinshasa", "Africa/Kinshasa", "africa", ("fr", "en")),
    Place("DR Congo", "Lubumbashi", "Africa/Lubumbashi", "africa", ("fr", "en")),
    Place("Rwanda", "Kigali", "Africa/Kigali", "africa", ("fr", "en")),
    Place("Côte d'Ivoire", "Abidjan", "Africa/Abidjan", "africa", ("fr", "en")),
    Place("Morocco", "Rabat", "Africa/Casablanca", "africa", ("fr", "en")),
    Place("South Africa", "Pretoria", "Africa/Johannesburg", "africa", ("en", "nl")),
    Place("Egypt", "Cairo", "Africa/Cairo", "middle-east", ("en", "fr")),
    Place("Israel", "Tel Aviv", "Asia/Jerusalem", "middle-east", ("en",)),
    Place("United States", "Washington", "America/New_York", "americas", ("en", "fr")),
    Place("United States", "Los Angeles", "America/Los_Angeles", "americas", ("en",)),
    Place("United States", "Honolulu", "Pacific/Honolulu", "americas", ("en",)),
    Place("Mexico", "Mexico City", "America/Mexico_City", "americas", ("en",)),
    Place("Brazil", "Brasília", "America/Sao_Paulo", "americas", ("en",)),
    Place("Chile", "Santiago", "America/Santiago", "americas", ("en",)),
    Place("Suriname", "Paramaribo", "America/Paramaribo", "americas", ("nl", "en")),
    Place("Sri Lanka", "Colombo", "Asia/Colombo", "asia-pacific", ("en",)),
    Place("Vietnam", "Hanoi", "Asia/Ho_Chi_Minh", "asia-pacific", ("fr", "en")),
    Place("Fiji", "Suva", "Pacific/Fiji", "asia-pacific", ("en",)),
)
KINDS = ("Embassy", "Consulate General", "Consulate", "Honorary Consulate", "Trade Office")

THEMES = (
    ("online abuse is real abuse", "la violence en ligne est une vraie violence",
     "online geweld is echt geweld"),
    ("cyberstalking is stalking", "le cyberharcèlement est du harcèlement",
     "cyberstalking is stalking"),
    ("her image, her consent", "son image, son consentement", "haar beeld, haar toestemming"),
    ("deepfake abuse is violence", "les deepfakes sexuels sont une violence",
     "deepfakemisbruik is geweld"),
    ("no to doxxing", "non au doxing", "nee tegen doxing"),
    ("women journalists deserve safety", "les journalistes ont droit à la sécurité",
     "journalistes verdienen veiligheid"),
    ("women in politics will not be silenced", "les élues ne se tairont pas",
     "vrouwen in de politiek zwijgen niet"),
    ("know your digital rights", "connaissez vos droits numériques", "ken je digitale rechten"),
    ("platforms must act", "les plateformes doivent agir", "platformen moeten optreden"),
    ("believe and support survivors", "croire et soutenir les survivantes",
     "geloof en steun overlevenden"),
    ("men and boys as allies", "les hommes et les garçons, alliés",
     "mannen en jongens als bondgenoten"),
    ("safe schools, safe screens", "écoles sûres, écrans sûrs",
     "veilige scholen, veilige schermen"),
    ("privacy is protection", "la vie privée protège", "privacy beschermt"),
    ("justice for victims", "justice pour les victimes", "gerechtigheid voor slachtoffers"),
    ("fund women's organisations", "financer les associations de femmes",
     "financier vrouwenorganisaties"),
    ("rights online are human rights", "les droits en ligne sont des droits humains",
     "rechten online zijn mensenrechten"),
)  # fmt: skip

# Python format fields ({day}, {theme}) are filled here; {{embassy}} and {{country}} stay in
# the file as the campaign's own placeholders. Every text names its embassy, so no two X
# accounts post an identical text.
SLOT_TEXTS = {
    "morning": (
        "Day {day} of #16Days: {theme}. {{embassy}} joins UN Women and partners in {{country}} "
        "to end violence against women and girls 🧡",
        "Jour {day} des #16Days : {theme}. {{embassy}} s'engage avec ONU Femmes et ses "
        "partenaires ({{country}}) contre la violence faite aux femmes 🧡",
        "Dag {day} van #16Days: {theme}. {{embassy}} sluit zich aan bij UN Women en partners "
        "({{country}}) tegen geweld op vrouwen 🧡",
    ),
    "midday": (
        "{Theme}. Every woman has the right to be safe, online and offline. {{embassy}} shares "
        "the facts and where to find help: " + SITE,
        "{Theme}. Chaque femme a droit à la sécurité, en ligne et hors ligne. {{embassy}} "
        "partage les faits et les aides : " + SITE,
        "{Theme}. Elke vrouw heeft recht op veiligheid, online en offline. {{embassy}} deelt "
        "de feiten en waar je hulp vindt: " + SITE,
    ),
    "afternoon": (
        "Did you know? In {{country}}, as in Belgium 🇧🇪, survivors can get confidential "
        "support. {{embassy}} works with local organisations: {theme} 👩‍💻",
        "Le saviez-vous ? ({{country}}) Comme en Belgique 🇧🇪, les victimes peuvent obtenir "
        "une aide confidentielle. {{embassy}} agit avec ses partenaires : {theme} 👩‍💻",
        "Wist je dat? In {{country}}, net als in België 🇧🇪, kunnen slachtoffers vertrouwelijk "
        "hulp krijgen. {{embassy}} werkt samen met lokale organisaties: {theme} 👩‍💻",
    ),
    "evening": (
        "Tonight {{embassy}} lights up orange ✊🏽 for day {day}: {theme}. Join us and share.",
        "Ce soir, {{embassy}} s'illumine en orange ✊🏽 pour le jour {day} : {theme}.",
        "Vanavond kleurt {{embassy}} oranje ✊🏽 voor dag {day}: {theme}. Doe mee en deel.",
    ),
}
THREAD_TEXTS = (
    (
        "1/2 {Theme}: three things anyone can do today, from {{embassy}}. Thread 🧵",
        "1/2 {Theme} : trois gestes simples pour agir dès aujourd'hui, par {{embassy}}. 🧵",
        "1/2 {Theme}: drie dingen die iedereen vandaag kan doen, van {{embassy}}. 🧵",
    ),
    (
        "2/2 Report it. Block it. Talk about it. Help lines in {{country}}: " + SITE + " "
        "({{embassy}})",
        "2/2 Signalez. Bloquez. Parlez-en. Numéros d'aide ({{country}}) : " + SITE + " "
        "({{embassy}})",
        "2/2 Meld het. Blokkeer het. Praat erover. Hulplijnen in {{country}}: " + SITE + " "
        "({{embassy}})",
    ),
)
ALT = (
    "Orange campaign card, day {day} of 16: '{theme}'. Footer: #16Days and Belgium.",
    "Carte orange de la campagne, jour {day} sur 16 : « {theme} ». En bas : #16Days, Belgique.",
    "Oranje campagnekaart, dag {day} van 16: '{theme}'. Onderaan: #16Days en België.",
)
LANGUAGES = ("en", "fr", "nl")


def _q(value: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(value, ensure_ascii=False)


def _texts(templates: tuple[str, ...], day: int) -> dict[str, str]:
    found = {}
    for language, template, theme in zip(LANGUAGES, templates, THEMES[day - 1], strict=True):
        found[language] = template.format(day=day, theme=theme, Theme=theme[0].upper() + theme[1:])
    return found


def _mapping(indent: str, key: str, values: dict[str, str]) -> Iterator[str]:
    yield f"{indent}{key}:"
    for language, text in values.items():
        yield f"{indent}  {language}: {_q(text)}"


def _image_lines(indent: str, day: int) -> Iterator[str]:
    yield f"{indent}images:"
    yield f"{indent}  - file: media/day{day:02d}.png"
    yield from _mapping(indent + "    ", "alt", _texts(ALT, day))


def _embassy_lines(index: int) -> Iterator[str]:
    place = PLACES[index % len(PLACES)]
    rounds = index // len(PLACES)
    kind = KINDS[rounds % len(KINDS)]
    number = f" {rounds // len(KINDS) + 1}" if rounds >= len(KINDS) else ""
    embassy_id = f"be-{index:05d}"
    handle = f"Belgium{index:05d}"
    yield f"  - id: {embassy_id}"
    yield f"    name: {_q(f'{kind} of Belgium in {place.city}{number}')}"
    yield f"    country: {_q(place.country)}"
    yield f"    city: {_q(place.city)}"
    yield f"    region: {place.region}"
    yield f"    tags: [{THREAD_DAYS[8] if index % 2 == 0 else THREAD_DAYS[12]}]"
    yield f"    timezone: {place.timezone}"
    yield f"    languages: [{', '.join(place.languages)}]"
    yield "    accounts:"
    yield f'      x: {{handle: "@{handle}", credentials: {embassy_id}-x}}'
    yield (
        f'      mastodon: {{handle: "@{handle.lower()}", instance: "https://mastodon.social", '
        f"credentials: {embassy_id}-mastodon}}"
    )
    yield (
        f"      bluesky: {{handle: {handle.lower()}.bsky.social, "
        f"credentials: {embassy_id}-bluesky}}"
    )


def _post_lines(post_id: str, day: int, slot: str, wave: str | None) -> Iterator[str]:
    yield f"  - id: {post_id}"
    yield f"    day: {day}"
    yield f"    time: {slot}"
    if wave is not None:
        yield f"    targets: {{tags: [{wave}]}}"
    if day == 3 and slot == "afternoon":
        cw = {"en": "image-based abuse", "fr": "abus d'images intimes", "nl": "beeldmisbruik"}
        yield from _mapping("    ", "content_warning", cw)
    if day == DAYS:
        yield '    hashtags: ["#16Days", "#HumanRightsDay"]'
    texts = _texts(SLOT_TEXTS[slot], day)
    yield from _mapping("    ", "text", texts)
    if slot == "midday":
        mention = {lang: text + " @unwomen@mastodon.social" for lang, text in texts.items()}
        yield "    variants:"
        yield from _mapping("      ", "mastodon", mention)
    yield from _image_lines("    ", day)


def _thread_lines(post_id: str, day: int, wave: str) -> Iterator[str]:
    yield f"  - id: {post_id}"
    yield f"    day: {day}"
    yield "    time: evening"
    yield f"    targets: {{tags: [{wave}]}}"
    yield "    thread:"
    for number, templates in enumerate(THREAD_TEXTS):
        first, *rest = _mapping("        ", "text", _texts(templates, day))
        yield "      - " + first.lstrip()
        yield from rest
        if number == 0:
            yield from _image_lines("        ", day)


def _posts(day: int) -> Iterator[str]:
    wave = THREAD_DAYS.get(day)
    if wave is None:
        for slot in SLOTS:
            yield from _post_lines(f"d{day:02d}-{slot}", day, slot, None)
        return
    other = THREAD_DAYS[8] if wave == THREAD_DAYS[12] else THREAD_DAYS[12]
    for slot in ("morning", "midday"):
        yield from _post_lines(f"d{day:02d}-{slot}", day, slot, None)
    for slot in ("afternoon", "evening"):
        yield from _post_lines(f"d{day:02d}-{slot}-{other}", day, slot, other)
    yield from _thread_lines(f"d{day:02d}-thread-{wave}", day, wave)


def campaign_yaml(embassies: int) -> str:
    """The campaign file: ``embassies`` x 3 platforms x 64 posts (4 a day for 16 days)."""
    lines = [
        "# Generated by bench/plan_bench.py: a synthetic, deterministic benchmark campaign.",
        "version: 1",
        "campaign:",
        "  id: bench-16days",
        '  name: "16 Days of Activism (benchmark)"',
        "  window:",
        f"    start: {WINDOW_START}",
        "    end: 2026-12-10",
        "  posting_times:",
        *(f'    {name}: "{clock}"' for name, clock in SLOTS.items()),
        '  hashtags: ["#16Days", "#OrangeTheWorld", "#NoExcuse"]',
        "  default_language: en",
        "embassies:",
    ]
    for index in range(embassies):
        lines.extend(_embassy_lines(index))
    lines.append("posts:")
    for day in range(1, DAYS + 1):
        lines.extend(_posts(day))
    return "\n".join(lines) + "\n"


def write_campaign(folder: Path, embassies: int) -> Path:
    from PIL import Image  # imported here: the parent process needs Pillow for this only

    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    for day in range(1, DAYS + 1):
        card = Image.new("RGB", (120, 68), (255, 130 - 4 * day, 0))
        card.save(media / f"day{day:02d}.png", format="PNG")
    path = folder / "campaign.yaml"
    path.write_text(campaign_yaml(embassies), encoding="utf-8")
    return path


# --- Measuring, in a fresh process per size and repetition ---------------------------------


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Stages:
    """Times each stage once; with tracemalloc on, also its peak of Python allocations."""

    def __init__(self, *, trace: bool) -> None:
        self.trace = trace
        self.figures: dict[str, dict[str, float]] = {}

    def run(self, name: str, work: Callable[[], T]) -> T:
        gc.collect()
        if self.trace:
            tracemalloc.reset_peak()
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        figures = {"seconds": seconds, "rss_mb": _peak_rss_mb()}
        if self.trace:
            figures["traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        self.figures[name] = figures
        return result


def measure(path: Path, *, trace: bool) -> dict[str, Any]:
    """Every stage on the file at ``path``; the figures as a JSON-ready dict."""
    import yaml  # the yardstick of the goal: in the test extra, with libyaml
    from ruamel.yaml import YAML

    if getattr(yaml, "CSafeLoader", None) is None:
        raise SystemExit("PyYAML has no libyaml here (yaml.CSafeLoader): the goal's yardstick")

    from scheduler.campaign.sourcemap import parse_yaml
    from scheduler.service.validation import validate_file
    from scheduler.views.preview import Filters, XPricing, select, summarize_plan
    from scheduler.views.preview.csv_json import json_chunks

    text = path.read_text("utf-8")
    baseline = _peak_rss_mb()
    if trace:
        tracemalloc.start()
    stages = Stages(trace=trace)
    parsed = stages.run("parse_yaml", lambda: parse_yaml(text, str(path)))
    if parsed.problems or parsed.data is None:
        raise SystemExit(f"{path}: {parsed.problems[0] if parsed.problems else 'empty'}")
    del parsed
    stages.run("ruamel_rt", lambda: YAML(typ="rt").load(text))
    stages.run("pyyaml_safe", lambda: yaml.load(text, Loader=yaml.SafeLoader))
    stages.run("pyyaml_csafe", lambda: yaml.load(text, Loader=yaml.CSafeLoader))
    result = stages.run("validate_plan", lambda: validate_file(path))
    errors = [str(problem) for problem in result.problems if problem.is_error]
    if errors or result.plan is None:
        raise SystemExit("the generated campaign does not validate:\n" + "\n".join(errors[:20]))
    plan = result.plan

    def preview() -> int:
        """Written as the command writes it, a piece at a time, to a sink that keeps nothing."""
        deliveries = select(plan, Filters())
        summary = summarize_plan(deliveries, XPricing())
        chunks = json_chunks(plan, deliveries, summary, result.problems, plan.source)
        return sum(len(chunk.encode()) for chunk in chunks)

    json_bytes = stages.run("json_preview", preview)
    return {
        "deliveries": len(plan.deliveries),
        "problems": dict(Counter(str(problem.severity) for problem in result.problems)),
        "file_mb": len(text.encode()) / 2**20,
        "file_lines": text.count("\n"),
        "json_mb": json_bytes / 2**20,
        "baseline_rss_mb": baseline,
        "stages": stages.figures,
    }


def profile(path: Path, top: int) -> str:
    """cProfile of validate + plan + JSON preview: the functions with the most own time."""
    from scheduler.service.validation import validate_file
    from scheduler.views.preview import Filters, XPricing, select, summarize_plan
    from scheduler.views.preview.csv_json import json_chunks

    profiler = cProfile.Profile()
    profiler.enable()
    result = validate_file(path)
    assert result.plan is not None
    deliveries = select(result.plan, Filters())
    summary = summarize_plan(deliveries, XPricing())
    for _chunk in json_chunks(result.plan, deliveries, summary, result.problems):
        pass
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def _child(path: Path, *, trace: bool, profile_top: int) -> None:
    if profile_top:
        print(profile(path, profile_top))
        return
    print(json.dumps(measure(path, trace=trace)))


def _run_child(path: Path, *, trace: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(path)]
    if trace:
        command.append("--tracemalloc")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark process failed:\n{done.stderr}{done.stdout}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


COMMAND = (
    "import sys\n"
    "from scheduler.cli import main\n"
    "sys.argv = ['campaign', 'preview', sys.argv[1], '--format', 'json']\n"
    "main()\n"
)
"""What the `campaign` console script runs for ``campaign preview FILE --format json``."""


def run_command(path: Path) -> dict[str, float]:
    """The whole ``campaign preview FILE --format json > /dev/null`` process: wall time, CPU
    time and peak resident memory, as the user meets them."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", COMMAND, str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"campaign preview failed ({child.returncode}):\n{errors}")
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
    }


# --- Reporting ---------------------------------------------------------------------------------

STAGE_LABELS = {
    "parse_yaml": "parse: sourcemap.parse_yaml",
    "ruamel_rt": "parse: ruamel rt load only",
    "pyyaml_safe": "parse: PyYAML safe_load",
    "pyyaml_csafe": "parse: PyYAML CSafeLoader",
    "validate_plan": "validate + plan",
    "json_preview": "JSON preview",
}


@dataclass(frozen=True)
class SizeResult:
    embassies: int
    generate_seconds: float
    runs: list[dict[str, Any]]
    command: dict[str, float]
    """``campaign preview FILE --format json``, the whole process (see ``run_command``)."""

    def seconds(self, stage: str) -> float:
        """Median over the repetitions (each in a fresh process)."""
        return statistics.median(run["stages"][stage]["seconds"] for run in self.runs)

    def peak(self, stage: str, key: str = "rss_mb") -> float:
        return max(run["stages"][stage].get(key, 0.0) for run in self.runs)

    @property
    def first(self) -> dict[str, Any]:
        return self.runs[0]


def _rows(results: list[SizeResult], trace: bool) -> Iterator[tuple[str, list[str]]]:
    yield "embassies", [f"{r.embassies:,}" for r in results]
    yield "deliveries", [f"{r.first['deliveries']:,}" for r in results]
    yield (
        "campaign file",
        [f"{r.first['file_mb']:.1f} MB, {r.first['file_lines']:,} lines" for r in results],
    )
    yield (
        "problems (valid file)",
        [
            ", ".join(f"{n} {k}" for k, n in sorted(r.first["problems"].items())) or "none"
            for r in results
        ],
    )
    yield "generate YAML (s)", [f"{r.generate_seconds:.2f}" for r in results]
    for stage, label in STAGE_LABELS.items():
        if all(stage in r.first["stages"] for r in results):
            yield f"{label} (s)", [f"{r.seconds(stage):.2f}" for r in results]
    total = [r.seconds("validate_plan") + r.seconds("json_preview") for r in results]
    yield "total: validate+plan+preview (s)", [f"{t:.2f}" for t in total]
    yield (
        "deliveries/s, validate + plan",
        [f"{r.first['deliveries'] / r.seconds('validate_plan'):,.0f}" for r in results],
    )
    yield (
        "deliveries/s, total",
        [f"{r.first['deliveries'] / t:,.0f}" for r, t in zip(results, total, strict=True)],
    )
    yield (
        "ratio validate + plan / CSafeLoader parse (goal <= 10x)",
        [f"{r.seconds('validate_plan') / r.seconds('pyyaml_csafe'):.1f}x" for r in results],
    )
    yield (
        "ratio total / CSafeLoader parse",
        [f"{t / r.seconds('pyyaml_csafe'):.1f}x" for r, t in zip(results, total, strict=True)],
    )
    yield (
        "ratio total / parse_yaml",
        [f"{t / r.seconds('parse_yaml'):.1f}x" for r, t in zip(results, total, strict=True)],
    )
    yield (
        "ratio total / ruamel rt load",
        [f"{t / r.seconds('ruamel_rt'):.1f}x" for r, t in zip(results, total, strict=True)],
    )
    yield "JSON preview size", [f"{r.first['json_mb']:.0f} MB" for r in results]
    yield "RSS after imports (MB)", [f"{r.first['baseline_rss_mb']:.0f}" for r in results]
    for stage in ("parse_yaml", "validate_plan", "json_preview"):
        yield (
            f"peak RSS after {STAGE_LABELS[stage]} (MB)",
            [f"{r.peak(stage):.0f}" for r in results],
        )
    yield (
        "campaign preview -f json > /dev/null: wall (s)",
        [f"{r.command['seconds']:.2f}" for r in results],
    )
    yield (
        "campaign preview -f json: CPU (s)",
        [f"{r.command['cpu_seconds']:.2f}" for r in results],
    )
    yield (
        "campaign preview -f json: peak RSS (MB, goal <= 300)",
        [f"{r.command['rss_mb']:.0f}" for r in results],
    )
    if trace:
        for stage in ("parse_yaml", "validate_plan", "json_preview"):
            yield (
                f"tracemalloc peak, {STAGE_LABELS[stage]} (MB)",
                [f"{r.peak(stage, 'traced_mb'):.0f}" for r in results],
            )


def load_average() -> str:
    return ", ".join(f"{figure:.2f}" for figure in os.getloadavg())


def report(results: list[SizeResult], repeat: int, trace: bool, loads: tuple[str, str]) -> str:
    rows = list(_rows(results, trace))
    width = max(len(label) for label, _ in rows)
    columns = [max(len(row[1][i]) for row in rows) for i in range(len(results))]
    lines = [
        f"Planning benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"median of {repeat} fresh process(es) per size"
        + (" (tracemalloc on: times are inflated)" if trace else ""),
        f"load average (1, 5, 15 min): before {loads[0]}, after {loads[1]}",
        "",
    ]
    for label, values in rows:
        cells = "  ".join(value.rjust(size) for value, size in zip(values, columns, strict=True))
        lines.append(f"{label.ljust(width)}  {cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,2000", help="embassy counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="fresh processes per size")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report tracemalloc peaks (slower)"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print a cProfile top N instead"
    )
    parser.add_argument("--keep", type=Path, help="write the campaigns here and keep them")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(args.child, trace=args.tracemalloc, profile_top=args.profile)
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="plan-bench-") as scratch:
        root = args.keep or Path(scratch)
        results = []
        for size in sizes:
            start = time.perf_counter()
            path = write_campaign(root / f"campaign-{size}", size)
            generated = time.perf_counter() - start
            if args.profile:
                print(f"== cProfile, {size} embassies: {path}", flush=True)
                _child(path, trace=False, profile_top=args.profile)
                continue
            runs = [_run_child(path, trace=args.tracemalloc) for _ in range(args.repeat)]
            results.append(SizeResult(size, generated, runs, run_command(path)))
            print(f"{size} embassies: done", file=sys.stderr, flush=True)
    if results:
        print(report(results, args.repeat, args.tracemalloc, (load_before, load_average())))


if __name__ == "__main__":
    main()
