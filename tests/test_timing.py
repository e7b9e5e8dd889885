"""Local wall-clock times to UTC instants, across clock changes, odd offsets and the date line."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduler.campaign.model import DstPolicy, FoldPolicy, GapPolicy
from scheduler.campaign.timing import (
    LocalTimeError,
    in_zone,
    parse_clock,
    resolve_local,
    utc_offset_label,
    zone,
)

UTC = dt.UTC
SHIFT = DstPolicy(gap=GapPolicy.SHIFT_FORWARD)
GAP_ERROR = DstPolicy(gap=GapPolicy.ERROR)
EARLIER = DstPolicy(fold=FoldPolicy.EARLIER)
LATER = DstPolicy(fold=FoldPolicy.LATER)
FOLD_ERROR = DstPolicy(fold=FoldPolicy.ERROR)


def _zone(name: str) -> ZoneInfo:
    found = zone(name)
    assert found is not None, name
    return found


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


BRUSSELS = _zone("Europe/Brussels")
SYDNEY = _zone("Australia/Sydney")


# Europe/Brussels: clocks go 02:00 -> 03:00 on 2026-03-29 and 03:00 -> 02:00 on 2026-10-25.
def test_gap_is_shifted_forward_by_its_length() -> None:
    resolved = resolve_local(dt.date(2026, 3, 29), dt.time(2, 30), BRUSSELS, SHIFT)
    assert resolved.local == dt.datetime(2026, 3, 29, 3, 30)
    assert resolved.utc == _utc(2026, 3, 29, 1, 30)
    assert resolved.utc.tzinfo is UTC
    assert resolved.utc.astimezone(BRUSSELS).utcoffset() == dt.timedelta(hours=2)
    assert resolved.note is not None
    assert "does not exist in Europe/Brussels" in resolved.note
    assert "03:30" in resolved.note


def test_gap_with_error_policy_names_the_time_and_zone() -> None:
    with pytest.raises(LocalTimeError, match=r"2026-03-29 02:30 does not exist in Europe/Brussels"):
        resolve_local(dt.date(2026, 3, 29), dt.time(2, 30), BRUSSELS, GAP_ERROR)


@pytest.mark.parametrize(
    ("policy", "expected_utc", "which"),
    [(EARLIER, _utc(2026, 10, 25, 0, 30), "first"), (LATER, _utc(2026, 10, 25, 1, 30), "second")],
)
def test_fold_takes_the_occurrence_the_policy_names(
    policy: DstPolicy, expected_utc: dt.datetime, which: str
) -> None:
    resolved = resolve_local(dt.date(2026, 10, 25), dt.time(2, 30), BRUSSELS, policy)
    assert resolved.utc == expected_utc
    assert resolved.local == dt.datetime(2026, 10, 25, 2, 30)
    assert resolved.note is not None
    assert f"using the {which} one" in resolved.note


def test_fold_with_error_policy_refuses() -> None:
    with pytest.raises(LocalTimeError, match="happens twice in Europe/Brussels"):
        resolve_local(dt.date(2026, 10, 25), dt.time(2, 30), BRUSSELS, FOLD_ERROR)


@pytest.mark.parametrize("policy", [GAP_ERROR, FOLD_ERROR])
def test_ordinary_times_on_change_days_need_no_policy(policy: DstPolicy) -> None:
    before = resolve_local(dt.date(2026, 3, 29), dt.time(1, 59), BRUSSELS, policy)
    after = resolve_local(dt.date(2026, 10, 25), dt.time(3, 0), BRUSSELS, policy)
    assert (before.utc, before.note) == (_utc(2026, 3, 29, 0, 59), None)
    assert (after.utc, after.note) == (_utc(2026, 10, 25, 2, 0), None)


# Australia/Sydney, southern hemisphere: summer time ends on 2026-04-05 (03:00 -> 02:00) and
# starts on 2026-10-04 (02:00 -> 03:00).
def test_sydney_april_fold() -> None:
    day, clock = dt.date(2026, 4, 5), dt.time(2, 30)
    assert resolve_local(day, clock, SYDNEY, EARLIER).utc == _utc(2026, 4, 4, 15, 30)
    assert resolve_local(day, clock, SYDNEY, LATER).utc == _utc(2026, 4, 4, 16, 30)
    with pytest.raises(LocalTimeError, match="Australia/Sydney"):
        resolve_local(day, clock, SYDNEY, FOLD_ERROR)


def test_sydney_october_gap() -> None:
    resolved = resolve_local(dt.date(2026, 10, 4), dt.time(2, 30), SYDNEY, SHIFT)
    assert resolved.local == dt.datetime(2026, 10, 4, 3, 30)
    assert resolved.utc == _utc(2026, 10, 3, 16, 30)
    with pytest.raises(LocalTimeError, match="Australia/Sydney"):
        resolve_local(dt.date(2026, 10, 4), dt.time(2, 30), SYDNEY, GAP_ERROR)


def test_sydney_january_is_summer_time() -> None:
    resolved = resolve_local(dt.date(2026, 1, 15), dt.time(9, 0), SYDNEY, FOLD_ERROR)
    assert resolved.utc == _utc(2026, 1, 14, 22, 0)  # UTC+11, the day before in UTC


def test_half_hour_clock_change_gap_and_fold() -> None:
    """Lord Howe Island moves its clocks by 30 minutes, so the gap and fold are half an hour."""
    lord_howe = _zone("Australia/Lord_Howe")
    gap = resolve_local(dt.date(2026, 10, 4), dt.time(2, 15), lord_howe, SHIFT)
    assert gap.local == dt.datetime(2026, 10, 4, 2, 45)
    fold = dt.date(2026, 4, 5), dt.time(1, 45)
    earlier = resolve_local(*fold, lord_howe, EARLIER).utc
    later = resolve_local(*fold, lord_howe, LATER).utc
    assert later - earlier == dt.timedelta(minutes=30)


def test_a_skipped_calendar_day_moves_to_the_next_day() -> None:
    """Samoa skipped 2011-12-30 when it crossed the date line."""
    resolved = resolve_local(dt.date(2011, 12, 30), dt.time(9, 0), _zone("Pacific/Apia"), SHIFT)
    assert resolved.local == dt.datetime(2011, 12, 31, 9, 0)
    assert resolved.utc == _utc(2011, 12, 30, 19, 0)
    assert resolved.note is not None


@pytest.mark.parametrize(
    ("name", "expected_utc", "label"),
    [
        ("Asia/Kathmandu", _utc(2026, 11, 25, 3, 15), "UTC+05:45"),
        ("Asia/Kolkata", _utc(2026, 11, 25, 3, 30), "UTC+05:30"),
        ("Australia/Eucla", _utc(2026, 11, 25, 0, 15), "UTC+08:45"),
        ("America/St_Johns", _utc(2026, 11, 25, 12, 30), "UTC-03:30"),
        ("Asia/Tokyo", _utc(2026, 11, 25, 0, 0), "UTC+09:00"),
        ("UTC", _utc(2026, 11, 25, 9, 0), "UTC+00:00"),
    ],
)
def test_odd_offsets(name: str, expected_utc: dt.datetime, label: str) -> None:
    tz = _zone(name)
    resolved = resolve_local(dt.date(2026, 11, 25), dt.time(9, 0), tz, FOLD_ERROR)
    assert resolved.utc == expected_utc
    assert resolved.local == dt.datetime(2026, 11, 25, 9, 0)
    assert resolved.note is None
    assert utc_offset_label(resolved.utc, tz) == label


def test_same_instant_falls_on_different_dates_across_the_date_line() -> None:
    instant = _utc(2026, 11, 25, 10, 30)
    kiritimati = in_zone(instant, _zone("Pacific/Kiritimati"))  # UTC+14
    pago_pago = in_zone(instant, _zone("Pacific/Pago_Pago"))  # UTC-11
    assert kiritimati.utc == pago_pago.utc == instant
    assert kiritimati.local == dt.datetime(2026, 11, 26, 0, 30)
    assert pago_pago.local == dt.datetime(2026, 11, 24, 23, 30)
    assert (kiritimati.local.date() - pago_pago.local.date()).days == 2
    assert kiritimati.note is None


def test_in_zone_normalises_any_offset_to_utc() -> None:
    written = dt.datetime(2026, 11, 25, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    resolved = in_zone(written, _zone("Asia/Kathmandu"))
    assert resolved.utc == _utc(2026, 11, 25, 12, 0)
    assert resolved.utc.utcoffset() == dt.timedelta(0)
    assert resolved.local == dt.datetime(2026, 11, 25, 17, 45)
    assert resolved.local.tzinfo is None


def test_utc_offset_label_follows_the_season() -> None:
    assert utc_offset_label(_utc(2026, 1, 15, 12), BRUSSELS) == "UTC+01:00"
    assert utc_offset_label(_utc(2026, 7, 15, 12), BRUSSELS) == "UTC+02:00"
    assert utc_offset_label(_utc(2026, 1, 15, 12), SYDNEY) == "UTC+11:00"
    assert utc_offset_label(_utc(2026, 7, 15, 12), SYDNEY) == "UTC+10:00"
    assert utc_offset_label(_utc(2026, 7, 15, 12), _zone("Pacific/Pago_Pago")) == "UTC-11:00"
    assert utc_offset_label(_utc(2026, 7, 15, 12), _zone("Pacific/Kiritimati")) == "UTC+14:00"


def test_posix_style_etc_zones_have_inverted_signs() -> None:
    """'Etc/GMT+5' is five hours *behind* UTC; the label must say so."""
    assert utc_offset_label(_utc(2026, 7, 15, 12), _zone("Etc/GMT+5")) == "UTC-05:00"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../etc",
        "../../etc/passwd",
        "/etc/localtime",
        "/usr/share/zoneinfo/Europe/Brussels",
        "Europe/../Europe/Brussels",
        ".",
        "Nowhere/Capital",
        "Europe",
        "Europe/Brussels/",
        " Europe/Brussels",
        "Europe/Brussels\x00",
    ],
)
def test_invalid_zone_names_give_none(name: str) -> None:
    assert zone(name) is None


@pytest.mark.parametrize("name", ["Europe/Brussels", "Asia/Kathmandu", "UTC", "Asia/Calcutta"])
def test_valid_zone_names(name: str) -> None:
    found = zone(name)
    assert isinstance(found, ZoneInfo)
    assert found.key == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00", dt.time(9, 0)), ("00:00", dt.time(0)), ("23:59", dt.time(23, 59))],
)
def test_parse_clock(text: str, expected: dt.time) -> None:
    assert parse_clock(text) == expected
