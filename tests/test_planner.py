"""Expanding a campaign file into deliveries, through the service as the CLI calls it."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import (
    IMAGE_FILE,
    campaign_data,
    default_embassies,
    embassy,
    image,
    post,
    write_campaign,
    write_yaml,
)

from adapters.capabilities import LengthRule, Platform
from adapters.textlength import text_length
from scheduler.campaign.planner import Delivery, Plan
from scheduler.errors import CampaignFileError
from scheduler.problems import Problem, Severity
from scheduler.service.validation import plan_file, validate_file

UTC = dt.UTC
THREAD = [
    {"text": {lang: f"{{embassy}}: part {n} ({lang})" for lang in ("en", "fr", "ja")}}
    for n in (1, 2, 3)
]
# Tokyo has x, mastodon and bluesky; New York x and mastodon; Paris mastodon and bluesky.
ACCOUNTS = {
    ("be-tokyo", Platform.X),
    ("be-tokyo", Platform.MASTODON),
    ("be-tokyo", Platform.BLUESKY),
    ("be-newyork", Platform.X),
    ("be-newyork", Platform.MASTODON),
    ("be-paris", Platform.MASTODON),
    ("be-paris", Platform.BLUESKY),
}


def _hashes(plan: Plan) -> dict[str, str]:
    return {delivery.id: delivery.content_hash for delivery in plan.deliveries}


def _one(plan: Plan, delivery_id: str) -> Delivery:
    found = [delivery for delivery in plan.deliveries if delivery.id == delivery_id]
    assert len(found) == 1, [delivery.id for delivery in plan.deliveries]
    return found[0]


def _with_code(problems: list[Problem], code: str) -> list[Problem]:
    return [problem for problem in problems if problem.code == code]


def _errors(path: Path) -> list[Problem]:
    result = validate_file(path)
    assert not result.ok
    return [problem for problem in result.problems if problem.severity is Severity.ERROR]


# Determinism and identity


def test_planning_twice_gives_the_same_deliveries(tmp_path: Path) -> None:
    posts = [post("launch", images=[image()]), post("thread", day=2, thread=THREAD)]
    path = write_campaign(tmp_path, posts=posts, hashtags=["OrangeTheWorld"])
    first, _ = plan_file(path)
    second, _ = plan_file(path)
    assert [d.id for d in first.deliveries] == [d.id for d in second.deliveries]
    assert [d.content_hash for d in first.deliveries] == [d.content_hash for d in second.deliveries]
    assert first.deliveries == second.deliveries
    assert len(first.deliveries) == len(ACCOUNTS) * (1 + 3)


def test_deliveries_are_ordered_by_instant(tmp_path: Path) -> None:
    plan, _ = plan_file(write_campaign(tmp_path, posts=[post("a", day=2), post("b", day=1)]))
    instants = [delivery.due_at for delivery in plan.deliveries]
    assert instants == sorted(instants)
    assert plan.deliveries[0].post_id == "b"


def test_adding_an_unrelated_post_keeps_ids_and_hashes(tmp_path: Path) -> None:
    data = campaign_data(posts=[post("launch"), post("thread", day=2, thread=THREAD)])
    path = write_yaml(tmp_path / "campaign.yaml", data)
    before = _hashes(plan_file(path)[0])
    data["posts"].insert(0, post("teaser", day=3))
    after = _hashes(plan_file(write_yaml(path, data))[0])
    assert before.items() <= after.items()
    assert {i for i in after.keys() - before.keys() if not i.startswith("teaser/")} == set()
    assert len(after) - len(before) == len(ACCOUNTS)


def test_editing_a_post_changes_only_its_own_hashes(tmp_path: Path) -> None:
    data = campaign_data(posts=[post("launch"), post("closing", day=16)])
    path = write_yaml(tmp_path / "campaign.yaml", data)
    before = _hashes(plan_file(path)[0])
    data["posts"][1]["text"] = {
        lang: text + " Thank you." for lang, text in data["posts"][1]["text"].items()
    }
    after = _hashes(plan_file(write_yaml(path, data))[0])
    assert after.keys() == before.keys()
    changed = {delivery_id for delivery_id in before if before[delivery_id] != after[delivery_id]}
    assert changed == {delivery_id for delivery_id in before if delivery_id.startswith("closing/")}


def test_editing_one_translation_changes_only_the_deliveries_in_that_language(
    tmp_path: Path,
) -> None:
    data = campaign_data()
    path = write_yaml(tmp_path / "campaign.yaml", data)
    before = plan_file(path)[0]
    data["posts"][0]["text"]["fr"] = "{embassy} soutient pleinement la campagne."
    after = _hashes(plan_file(write_yaml(path, data))[0])
    changed = {d.id for d in before.deliveries if after[d.id] != d.content_hash}
    assert changed == {d.id for d in before.deliveries if d.language == "fr"}
    assert changed == {"launch/be-paris/mastodon/1", "launch/be-paris/bluesky/1"}


# Expansion


def test_one_delivery_per_embassy_account(tmp_path: Path) -> None:
    plan, _ = plan_file(write_campaign(tmp_path))
    assert {(d.embassy_id, d.platform) for d in plan.deliveries} == ACCOUNTS
    assert len(plan.deliveries) == len(ACCOUNTS)
    assert {d.id for d in plan.deliveries} == {f"launch/{e}/{p}/1" for e, p in ACCOUNTS}
    tokyo_x = _one(plan, "launch/be-tokyo/x/1")
    assert (tokyo_x.account, tokyo_x.credentials, tokyo_x.part, tokyo_x.parts) == (
        "@be_tokyo",
        "be-tokyo-x",
        1,
        1,
    )
    assert _one(plan, "launch/be-paris/mastodon/1").instance == "https://mastodon.example"


def test_thread_parts_are_numbered_and_share_one_instant(tmp_path: Path) -> None:
    path = write_campaign(tmp_path, posts=[post("thread", thread=THREAD)], hashtags=["Orange"])
    plan, _ = plan_file(path)
    assert len(plan.deliveries) == 3 * len(ACCOUNTS)
    for embassy_id, platform in ACCOUNTS:
        parts = sorted(
            (d for d in plan.deliveries if (d.embassy_id, d.platform) == (embassy_id, platform)),
            key=lambda d: d.part,
        )
        assert [d.part for d in parts] == [1, 2, 3]
        assert {d.parts for d in parts} == {3}
        assert len({d.due_at for d in parts}) == 1
        assert [d.id for d in parts] == [f"thread/{embassy_id}/{platform}/{n}" for n in (1, 2, 3)]
        assert parts[0].text.endswith("\n\n#Orange")
        assert all("#Orange" not in d.text for d in parts[1:])
        assert parts[1].text.endswith(f"part 2 ({parts[1].language})")


def test_placeholders_are_filled_per_embassy(tmp_path: Path) -> None:
    plan, _ = plan_file(write_campaign(tmp_path))
    assert _one(plan, "launch/be-newyork/x/1").text == (
        "Consulate General of Belgium in New York stands with the campaign."
    )
    assert _one(plan, "launch/be-paris/bluesky/1").text == (
        "Embassy of Belgium in Paris soutient la campagne."
    )


def test_unknown_placeholder_is_an_error_at_its_text(tmp_path: Path) -> None:
    text = {"en": "{embassy} and {ambassador}", "fr": "{embassy}", "ja": "{embassy}"}
    errors = _errors(write_campaign(tmp_path, posts=[post("launch", text=text)]))
    [problem] = _with_code(errors, "unknown-placeholder")
    assert "{ambassador}" in problem.message
    assert problem.path == ("posts", 0, "text", "en")
    assert problem.line is not None


def test_platform_variant_replaces_the_text_there(tmp_path: Path) -> None:
    variants = {"bluesky": {"fr": "{city} : variante Bluesky"}}
    plan, _ = plan_file(write_campaign(tmp_path, posts=[post("launch", variants=variants)]))
    assert _one(plan, "launch/be-paris/bluesky/1").text == "Paris : variante Bluesky"
    assert _one(plan, "launch/be-paris/mastodon/1").text.endswith("soutient la campagne.")
    assert _one(plan, "launch/be-tokyo/bluesky/1").language == "ja"  # no 'ja' variant: the text


# Time


def test_same_local_time_is_a_different_instant_per_embassy(tmp_path: Path) -> None:
    plan, _ = plan_file(write_campaign(tmp_path, posts=[post("launch", time="09:00")]))
    expected = {
        "be-tokyo": (dt.datetime(2026, 11, 25, 0, 0, tzinfo=UTC), "Asia/Tokyo"),
        "be-newyork": (dt.datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "America/New_York"),
        "be-paris": (dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC), "Europe/Paris"),
    }
    for delivery in plan.deliveries:
        assert (delivery.due_at, delivery.timezone) == expected[delivery.embassy_id]
        assert delivery.local_time == dt.datetime(2026, 11, 25, 9, 0)
        assert delivery.due_at.tzinfo is UTC


def test_at_is_one_instant_for_every_embassy(tmp_path: Path) -> None:
    embassies = [
        embassy("be-tarawa", "Pacific/Kiritimati", platforms=["mastodon"]),
        embassy("be-apia", "Pacific/Pago_Pago", platforms=["mastodon"]),
        embassy("be-tokyo", "Asia/Tokyo", platforms=["mastodon"]),
    ]
    posts = [post("summit", at="2026-11-25T11:30:00+01:00")]  # 10:30 UTC
    plan, _ = plan_file(write_campaign(tmp_path, posts=posts, embassies=embassies))
    assert {d.due_at for d in plan.deliveries} == {dt.datetime(2026, 11, 25, 10, 30, tzinfo=UTC)}
    local = {d.embassy_id: d.local_time for d in plan.deliveries}
    assert local == {
        "be-tarawa": dt.datetime(2026, 11, 26, 0, 30),
        "be-apia": dt.datetime(2026, 11, 24, 23, 30),
        "be-tokyo": dt.datetime(2026, 11, 25, 19, 30),
    }


def test_at_outside_the_window_in_local_time_is_a_warning(tmp_path: Path) -> None:
    embassies = [embassy("be-apia", "Pacific/Pago_Pago", platforms=["mastodon"])]
    posts = [post("summit", at="2026-11-25T10:30:00Z")]  # still 24 November in Pago Pago
    _, problems = plan_file(write_campaign(tmp_path, posts=posts, embassies=embassies))
    [problem] = _with_code(problems, "outside-window")
    assert problem.severity is Severity.WARNING
    assert "be-apia" in problem.message


def test_named_posting_times_and_embassy_overrides(tmp_path: Path) -> None:
    embassies = default_embassies()
    embassies[2]["posting_times"] = {"morning": "08:00", "evening": "20:00"}  # Paris
    posts = [post("first"), post("late", time="evening"), post("exact", time="07:15")]
    plan, _ = plan_file(write_campaign(tmp_path, posts=posts, embassies=embassies))
    local = {(d.post_id, d.embassy_id): d.local_time.time() for d in plan.deliveries}
    assert local[("first", "be-tokyo")] == dt.time(9, 0)  # no 'time': the first posting time
    assert local[("late", "be-tokyo")] == dt.time(18, 30)
    assert local[("exact", "be-tokyo")] == dt.time(7, 15)
    assert local[("first", "be-paris")] == dt.time(8, 0)
    assert local[("late", "be-paris")] == dt.time(20, 0)
    assert local[("exact", "be-paris")] == dt.time(7, 15)
    assert _one(plan, "late/be-paris/mastodon/1").due_at == dt.datetime(
        2026, 11, 25, 19, 0, tzinfo=UTC
    )


def test_unknown_posting_time_is_an_error(tmp_path: Path) -> None:
    path = write_campaign(tmp_path, posts=[post("launch", time="noon")])
    problems = _with_code(_errors(path), "unknown-posting-time")
    assert problems
    assert "'noon'" in problems[0].message
    assert "morning, evening" in (problems[0].expected or "")
    with pytest.raises(CampaignFileError):
        plan_file(path)


def _brussels_campaign(tmp_path: Path, time: str, **policies: Any) -> Path:
    embassies = [embassy("be-brussels", "Europe/Brussels", platforms=["mastodon"])]
    return write_campaign(
        tmp_path,
        embassies=embassies,
        posts=[post("spring", date="2026-03-29", time=time)],
        window={"start": "2026-03-25", "end": "2026-04-05"},
        policies={"clock_changes": policies} if policies else {},
    )


def test_a_time_in_the_spring_gap_moves_forward_with_a_warning(tmp_path: Path) -> None:
    plan, problems = plan_file(_brussels_campaign(tmp_path, "02:30"))
    [delivery] = plan.deliveries
    assert delivery.due_at == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert delivery.local_time == dt.datetime(2026, 3, 29, 3, 30)
    [problem] = _with_code(problems, "clock-change")
    assert problem.severity is Severity.WARNING
    assert "be-brussels" in problem.message


def test_a_time_in_the_spring_gap_can_be_refused(tmp_path: Path) -> None:
    errors = _errors(_brussels_campaign(tmp_path, "02:30", gap="error"))
    [problem] = _with_code(errors, "local-time")
    assert "does not exist in Europe/Brussels" in problem.message


# Targets


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ({"embassies": ["be-tokyo"]}, {"be-tokyo"}),
        ({"regions": ["europe"]}, {"be-paris"}),
        ({"tags": ["un"]}, {"be-newyork"}),
        ({"tags": ["g7"]}, {"be-tokyo", "be-newyork"}),
        ({"embassies": ["be-paris"], "regions": ["asia"]}, {"be-paris", "be-tokyo"}),
        ({"tags": ["g7"], "exclude": ["be-tokyo"]}, {"be-newyork"}),
        ({"exclude": ["be-newyork"]}, {"be-tokyo", "be-paris"}),
    ],
)
def test_targets_choose_embassies(
    tmp_path: Path, targets: dict[str, list[str]], expected: set[str]
) -> None:
    plan, _ = plan_file(write_campaign(tmp_path, posts=[post("launch", targets=targets)]))
    assert {(d.embassy_id, d.platform) for d in plan.deliveries} == {
        account for account in ACCOUNTS if account[0] in expected
    }


@pytest.mark.parametrize(
    ("platforms", "expected"),
    [(["mastodon"], {Platform.MASTODON}), (["x", "bluesky"], {Platform.X, Platform.BLUESKY})],
)
def test_targets_choose_platforms(
    tmp_path: Path, platforms: list[str], expected: set[Platform]
) -> None:
    posts = [post("launch", targets={"platforms": platforms})]
    plan, _ = plan_file(write_campaign(tmp_path, posts=posts))
    assert {(d.embassy_id, d.platform) for d in plan.deliveries} == {
        account for account in ACCOUNTS if account[1] in expected
    }


def test_unknown_target_is_an_error(tmp_path: Path) -> None:
    path = write_campaign(tmp_path, posts=[post("launch", targets={"regions": ["africa"]})])
    [problem] = _with_code(_errors(path), "unknown-reference")
    assert "'africa'" in problem.message
    assert problem.path == ("posts", 0, "targets", "regions", 0)


# Languages


def test_embassy_falls_back_to_its_next_language_with_a_notice(tmp_path: Path) -> None:
    text = {"en": "{embassy} (en)", "fr": "{embassy} (fr)"}
    plan, problems = plan_file(write_campaign(tmp_path, posts=[post("launch", text=text)]))
    languages = {d.embassy_id: d.language for d in plan.deliveries}
    assert languages == {"be-tokyo": "en", "be-newyork": "en", "be-paris": "fr"}
    [problem] = _with_code(problems, "language-fallback")
    assert problem.severity is Severity.NOTICE
    assert "no 'ja' text" in problem.message
    assert "be-tokyo will post in 'en'" in problem.message
    assert not _with_code(problems, "missing-translation")


def test_default_language_policy_posts_in_the_campaign_language(tmp_path: Path) -> None:
    embassies = [embassy("be-berlin", "Europe/Berlin", ["de"], platforms=["mastodon"])]
    posts = [post("launch", text={"nl": "{embassy} (nl)", "en": "{embassy} (en)"})]
    plan, problems = plan_file(write_campaign(tmp_path, posts=posts, embassies=embassies))
    assert [d.language for d in plan.deliveries] == ["en"]
    [problem] = _with_code(problems, "missing-translation")
    assert problem.severity is Severity.WARNING
    assert "it will post in 'en'" in problem.message


def test_default_language_policy_without_that_language_uses_the_first_text(
    tmp_path: Path,
) -> None:
    text = {"fr": "{embassy} (fr)"}
    plan, problems = plan_file(write_campaign(tmp_path, posts=[post("launch", text=text)]))
    assert {d.language for d in plan.deliveries} == {"fr"}
    assert len(plan.deliveries) == len(ACCOUNTS)
    warned = " ".join(p.message for p in _with_code(problems, "missing-translation"))
    assert "be-tokyo" in warned
    assert "be-newyork" in warned
    assert "be-paris" not in warned


def test_skip_policy_leaves_the_embassy_out(tmp_path: Path) -> None:
    path = write_campaign(
        tmp_path,
        posts=[post("launch", text={"fr": "{embassy} (fr)"})],
        policies={"language_fallback": "skip"},
    )
    plan, problems = plan_file(path)
    assert {d.embassy_id for d in plan.deliveries} == {"be-paris"}
    skipped = _with_code(problems, "missing-translation")
    assert {p.severity for p in skipped} == {Severity.WARNING}
    assert any("left out for be-tokyo" in p.message for p in skipped)


def test_error_policy_makes_a_missing_translation_an_error(tmp_path: Path) -> None:
    path = write_campaign(
        tmp_path,
        posts=[post("launch", text={"fr": "{embassy} (fr)"})],
        policies={"language_fallback": "error"},
    )
    errors = _with_code(_errors(path), "missing-translation")
    assert {p.message.split(" for ")[1].split(" ")[0] for p in errors} == {
        "be-tokyo",
        "be-newyork",
    }
    with pytest.raises(CampaignFileError):
        plan_file(path)


# Hashtags and content warnings


@pytest.mark.parametrize(
    ("text", "appended"),
    [
        ("{embassy} stands with the campaign.", "\n\n#OrangeTheWorld #16Days"),
        ("{embassy} says #orangetheworld!", "\n\n#16Days"),  # already there, in another case
        ("#16Days of #OrangeTheWorld from {embassy}", ""),
        ("{embassy} marks #16DaysOfActivism", "\n\n#OrangeTheWorld #16Days"),  # not #16Days
    ],
)
def test_campaign_hashtags_are_appended_once(tmp_path: Path, text: str, appended: str) -> None:
    posts = [post("launch", text={"en": text}, targets={"embassies": ["be-newyork"]})]
    path = write_campaign(tmp_path, posts=posts, hashtags=["OrangeTheWorld", "#16Days"])
    plan, _ = plan_file(path)
    expected = text.replace("{embassy}", "Consulate General of Belgium in New York") + appended
    assert {d.text for d in plan.deliveries} == {expected}
    assert all(d.text.lower().count("#orangetheworld") == 1 for d in plan.deliveries)


@pytest.mark.parametrize(("hashtags", "suffix"), [([], "."), (["Diplomacy"], ".\n\n#Diplomacy")])
def test_post_hashtags_replace_the_campaign_ones(
    tmp_path: Path, hashtags: list[str], suffix: str
) -> None:
    posts = [post("launch", hashtags=hashtags)]
    plan, _ = plan_file(write_campaign(tmp_path, posts=posts, hashtags=["OrangeTheWorld"]))
    assert _one(plan, "launch/be-newyork/x/1").text.endswith("campaign" + suffix)


def test_content_warning_is_native_on_mastodon_and_prepended_elsewhere(tmp_path: Path) -> None:
    warning = {"en": "gender-based violence", "fr": "violences faites aux femmes"}
    posts = [post("launch", content_warning=warning)]
    plan, _ = plan_file(write_campaign(tmp_path, posts=posts))
    mastodon = _one(plan, "launch/be-paris/mastodon/1")
    assert mastodon.content_warning == "violences faites aux femmes"
    assert mastodon.text == "Embassy of Belgium in Paris soutient la campagne."
    assert mastodon.length == len(mastodon.text) + len("violences faites aux femmes")
    bluesky = _one(plan, "launch/be-paris/bluesky/1")
    assert bluesky.content_warning is None
    assert bluesky.text == "CW: violences faites aux femmes\n\n" + mastodon.text
    assert bluesky.length == text_length(bluesky.text, LengthRule.GRAPHEMES)
    x = _one(plan, "launch/be-newyork/x/1")
    assert x.content_warning is None
    assert x.text.startswith("CW: gender-based violence\n\n")
    assert x.length == text_length(x.text, LengthRule.TWITTER_WEIGHTED)


def test_prepended_content_warning_counts_towards_the_limit(tmp_path: Path) -> None:
    text = {"en": "x" * 260}
    targets = {"embassies": ["be-newyork"], "platforms": ["x"]}
    assert validate_file(write_campaign(tmp_path, posts=[post("p", text=text, targets=targets)])).ok
    posts = [post("p", text=text, targets=targets, content_warning={"en": "a" * 20})]
    [problem] = _with_code(_errors(write_campaign(tmp_path, posts=posts)), "too-long")
    assert problem.message.startswith(f"{260 + len('CW: ') + 20 + 2} characters on X")


def test_mastodon_limit_is_the_accounts_own(tmp_path: Path) -> None:
    embassies = default_embassies()
    embassies[1]["accounts"]["mastodon"]["max_characters"] = 1000  # New York's instance
    posts = [post("long", text={"en": "{city} " + "y" * 700}, targets={"platforms": ["mastodon"]})]
    path = write_campaign(tmp_path, posts=posts, embassies=embassies)
    result = validate_file(path)
    assert result.plan is not None
    limits = {d.embassy_id: d.limit for d in result.plan.deliveries}
    assert limits == {"be-newyork": 1000, "be-tokyo": 500, "be-paris": 500}
    [problem] = _with_code(result.problems, "too-long")
    assert "on Mastodon" in problem.message
    assert "be-newyork" not in problem.message
    assert problem.expected == "at most 500"


# Images


def test_images_become_attachments_with_alt_text_in_the_post_language(tmp_path: Path) -> None:
    posts = [post("launch", images=[image(alt={"en": "Orange banner", "fr": "Banniere"})])]
    path = write_campaign(tmp_path, posts=posts)
    plan, problems = plan_file(path)
    digest = hashlib.sha256((tmp_path / IMAGE_FILE).read_bytes()).hexdigest()
    paris = _one(plan, "launch/be-paris/mastodon/1").media
    assert [(a.file, a.mime, a.width, a.height, a.sha256) for a in paris] == [
        (IMAGE_FILE, "image/png", 16, 9, digest)
    ]
    assert (paris[0].alt, paris[0].alt_language) == ("Banniere", "fr")
    tokyo = _one(plan, "launch/be-tokyo/x/1").media[0]
    assert (tokyo.alt, tokyo.alt_language) == ("Orange banner", "en")  # no 'ja' alt text
    [problem] = _with_code(problems, "missing-alt-text")
    assert problem.severity is Severity.WARNING
    assert "no 'ja' alt text" in problem.message
    assert problem.path == ("posts", 0, "images", 0, "alt")


def test_a_missing_image_file_is_an_error(tmp_path: Path) -> None:
    posts = [post("launch", images=[image(file="media/missing.png")])]
    [problem] = _with_code(_errors(write_campaign(tmp_path, posts=posts)), "media-file")
    assert "media/missing.png" in problem.message
