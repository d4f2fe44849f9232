"""The rules of what a slice emits and remembers (``emission``), without HTTP."""

from __future__ import annotations

from dataclasses import replace

import pytest

from source_twilio import emission
from source_twilio.emission import Children, CountedParent, Place, Previously, SliceRules, version_of

SINCE = "2026-03-01T00:00:00Z"  # the previous sync's horizon
HORIZON = "2026-03-02T00:00:00Z"  # this sync's
KEY, VERSION = ("sid",), ("date_updated",)
AFTER_A_SYNC = Previously(SINCE)


def message(sid: str, date_sent: str | None, date_updated: str | None) -> dict:
    return {"sid": sid, "date_sent": date_sent, "date_updated": date_updated}


def window_rules(
    low: str = "2026-02-01T00:00:00Z",
    high: str = "2026-03-03T00:00:00Z",
    *,
    previously: Previously | None = AFTER_A_SYNC,
    first: bool = False,
    remember: bool = True,
) -> SliceRules:
    return SliceRules(
        key_fields=KEY,
        version_fields=VERSION,
        change_cursor="date_updated",
        time_field="date_sent",
        low=low,
        high=high,
        reaches_back="2020-01-01T00:00:00Z" if first else None,
        previously=previously,
        remember_from=HORIZON if remember else None,
        remember_updated_from=HORIZON if remember else None,
    )


# --- full refresh, or a partition's first sync -------------------------------------------------------------------


def test_given_no_previous_sync_then_exactly_the_records_inside_the_window_are_emitted():
    rules = window_rules(previously=None)
    assert rules.emits(message("SM1", "2026-02-01T00:00:00Z", "2020-01-01T00:00:00Z"))  # at low: inside
    assert rules.emits(message("SM2", "2026-03-02T23:59:59Z", None))
    assert not rules.emits(message("SM3", "2026-03-03T00:00:00Z", None))  # at high: the next window's
    assert not rules.emits(message("SM4", "2026-01-31T23:59:59Z", "2026-03-01T10:00:00Z"))
    assert not rules.emits(message("SM5", None, None))  # the sweep's


def test_given_a_value_that_is_not_a_timestamp_then_it_is_kept_where_twilio_put_it():
    assert window_rules().place(message("SM1", "Thu, 31 Feb 2026 10:00:00 +0000", None)) is Place.INSIDE


# --- read again: new, updated, seen -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_sent", "date_updated", "emitted"),
    [
        ("2026-02-28T23:00:00Z", "2026-02-28T23:00:05Z", False),  # seen by the previous sync, unchanged
        ("2026-02-28T23:00:00Z", "2026-03-01T00:00:00Z", True),  # updated at the previous horizon's second
        ("2026-02-28T23:00:00Z", "2026-03-01T09:00:00Z", True),  # updated since
        ("2026-03-01T00:00:00Z", "2026-02-28T00:00:00Z", True),  # new: out of the previous sync's windows
        ("2026-02-28T23:00:00Z", "garbage", True),  # cannot tell: emit
    ],
)
def test_given_a_previous_sync_when_a_record_is_read_again_then_emitted_only_if_new_or_updated(
    date_sent, date_updated, emitted
):
    assert window_rules().emits(message("SM1", date_sent, date_updated)) is emitted


def test_given_a_version_the_previous_sync_read_when_read_again_unchanged_then_not_emitted_and_changed_then_emitted():
    seen = message("SM1", "2026-03-01T00:04:00Z", "2026-03-01T00:04:30Z")  # in the previous sync's last minutes
    previously = Previously(SINCE, frozenset({version_of(seen, KEY, VERSION)}))
    rules = window_rules(previously=previously)
    assert not rules.emits(seen)
    assert rules.emits({**seen, "date_updated": "2026-03-01T07:00:00Z"})


def test_given_a_record_that_showed_up_late_then_it_is_emitted_once():
    """Stamped before the previous sync began but listed only after it: new to this sync, not remembered."""
    late = message("SM9", "2026-03-01T00:04:50Z", "2026-03-01T00:04:50Z")  # SINCE is 5 minutes before that sync
    assert window_rules().emits(late)


# --- what a coarse filter returns beyond the window ------------------------------------------------------------


def test_given_the_first_window_when_twilio_returns_records_before_it_then_those_changed_since_are_emitted():
    rules = window_rules(low="2026-02-28T18:00:00Z", first=True)
    changed = message("CA1", "2026-02-28T07:00:00Z", "2026-03-01T08:00:00Z")  # same day, before the window
    unchanged = message("CA2", "2026-02-28T07:00:00Z", "2026-02-28T07:10:00Z")
    assert rules.place(changed) is Place.BEFORE and rules.emits(changed)
    assert not rules.emits(unchanged)
    assert not rules.emits(message("CA3", "2019-12-31T23:59:59Z", "2026-03-01T08:00:00Z"))  # before start_date


def test_given_a_later_window_when_twilio_returns_records_before_it_then_none_is_emitted_there():
    rules = window_rules(low="2026-02-28T18:00:00Z", first=False)
    assert not rules.emits(message("CA1", "2026-02-28T07:00:00Z", "2026-03-01T08:00:00Z"))


# --- the sweep -------------------------------------------------------------------------------------------------


def test_given_the_sweep_then_only_records_with_a_null_field_and_changed_since_are_emitted():
    rules = replace(window_rules(), low=None, high=None, sweep=True)
    assert rules.emits(message("SM1", None, "2026-03-01T01:00:00Z"))
    assert not rules.emits(message("SM2", None, "2026-02-01T01:00:00Z"))
    assert not rules.emits(message("SM3", "2026-03-01T01:00:00Z", "2026-03-01T01:00:00Z"))


def test_given_the_sweep_then_records_listed_before_its_reach_are_outside_it():
    rules = replace(
        window_rules(), low="2026-02-28T00:00:00Z", high=None, sweep=True, sweep_order=("date_sent", "date_created")
    )
    recent = {**message("SM1", None, "2026-03-01T01:00:00Z"), "date_created": "2026-02-28T10:00:00Z"}
    older = {**message("SM2", None, "2026-03-01T01:00:00Z"), "date_created": "2026-02-27T10:00:00Z"}
    assert rules.place(recent) is Place.INSIDE and rules.emits(recent)
    assert rules.place(older) is Place.OUTSIDE and not rules.emits(older)
    assert rules.expands(older) is None, "its children are not asked for either"


# --- what is remembered for the next sync ----------------------------------------------------------------------


def test_given_records_read_then_versions_at_or_after_the_horizon_are_remembered_emitted_or_not():
    rules = window_rules()
    recent = message("SM1", "2026-03-02T00:00:00Z", "2026-03-02T00:00:00Z")
    updated_lately = message("SM2", "2026-02-20T00:00:00Z", "2026-03-02T00:01:00Z")
    old = message("SM3", "2026-02-20T00:00:00Z", "2026-02-20T00:00:10Z")
    for record in (recent, updated_lately, old):
        rules.emits(record)
    assert rules.versions == {version_of(r, KEY, VERSION) for r in (recent, updated_lately)}


def test_given_full_refresh_then_nothing_is_remembered():
    rules = window_rules(previously=None, remember=False)
    rules.emits(message("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"))
    assert rules.versions == set()


def test_given_full_refresh_then_no_record_is_hashed(monkeypatch):
    """A version is hashed only where it is remembered or compared: a full refresh costs no hash per record."""
    monkeypatch.setattr(emission, "version_of", lambda *args: pytest.fail("a version was hashed"))
    rules = window_rules(previously=None, remember=False)
    assert rules.emits(message("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"))
    parent = message("SM2", "2026-03-02T10:00:00Z", None)
    expansion = rules.expands(parent)
    assert expansion is not None and rules.emits_child({"sid": "ME1", "date_updated": None}, expansion)


def test_given_narrowed_rules_then_they_share_the_versions_of_the_slice():
    rules = window_rules(first=True)
    left = rules.narrowed("2026-02-01T00:00:00Z", "2026-02-15T00:00:00Z", first=True)
    right = rules.narrowed("2026-02-15T00:00:00Z", "2026-03-03T00:00:00Z", first=False)
    assert left.reaches_back == rules.reaches_back and right.reaches_back is None
    right.emits(message("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"))
    assert rules.versions and rules.versions is right.versions is left.versions


# --- usage records: no change cursor, compared by their values ---------------------------------------------------


def usage_rules(previously: Previously | None) -> SliceRules:
    return SliceRules(
        key_fields=("account_sid", "category", "start_date", "end_date"),
        version_fields=("count", "usage", "price"),
        time_field="start_date",
        low="2026-02-25",
        high="2026-03-03",
        previously=previously,
        remember_from="2026-03-01",
    )


def test_given_usage_read_again_then_only_changed_values_are_emitted_and_the_lookback_days_remembered():
    day = {"account_sid": "AC1", "category": "sms", "start_date": "2026-03-01", "end_date": "2026-03-01"}
    before = {**day, "count": "3", "usage": "3", "price": "0.02"}
    first = usage_rules(None)
    assert first.emits(before)
    assert not first.emits({**before, "start_date": "2026-03-03", "end_date": "2026-03-03"})  # the next window's
    again = usage_rules(Previously(SINCE, frozenset(first.versions)))
    assert not again.emits(before)
    assert again.emits({**before, "count": "4", "usage": "4"})
    older = {**before, "start_date": "2026-02-26", "end_date": "2026-02-26"}
    again.emits(older)
    assert version_of(older, again.key_fields, again.version_fields) not in again.versions  # before the lookback


# --- a child stream (message media): which parents are expanded, which children emitted --------------------------


def media(sid: str, date_updated: str) -> dict:
    return {"sid": sid, "date_updated": date_updated}


def test_given_no_previous_sync_then_every_parent_in_the_window_is_expanded_with_every_child():
    rules = window_rules(previously=None)
    expansion = rules.expands(message("SM1", "2026-02-10T00:00:00Z", "2026-02-10T00:00:00Z"))
    assert expansion is not None and expansion.children is Children.ALL
    assert rules.emits_child(media("ME1", "2020-01-01T00:00:00Z"), expansion)


def test_given_a_message_sent_after_the_previous_sync_then_all_its_media_are_emitted():
    """Issue 9 item 2: created (and its media) before the previous sync, sent after it."""
    rules = window_rules()
    expansion = rules.expands(message("SM1", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"))
    assert expansion is not None and expansion.children is Children.ALL
    assert rules.emits_child(media("ME1", "2026-02-27T10:00:00Z"), expansion)


def test_given_a_message_updated_since_then_only_media_updated_since_are_emitted():
    rules = window_rules()
    expansion = rules.expands(message("SM1", "2026-02-20T10:00:00Z", "2026-03-01T10:00:00Z"))
    assert expansion is not None and expansion.children is Children.UPDATED
    assert not rules.emits_child(media("ME1", "2026-02-20T10:00:00Z"), expansion)
    assert rules.emits_child(media("ME2", "2026-03-01T10:00:00Z"), expansion)


def test_given_a_message_unchanged_since_the_previous_sync_then_its_media_are_not_asked_for():
    assert window_rules().expands(message("SM1", "2026-02-20T10:00:00Z", "2026-02-20T10:00:05Z")) is None


def test_given_a_queued_message_seen_by_the_sweep_when_it_is_sent_then_its_unchanged_media_are_not_emitted_again():
    sweep = replace(window_rules(), low=None, high=None, sweep=True)
    queued = message("SM1", None, "2026-02-27T10:00:00Z")  # unchanged since the previous sync
    old_media = media("ME1", "2026-02-27T10:00:00Z")
    expansion = sweep.expands(queued)
    assert expansion is not None and expansion.children is Children.NONE  # read, to be remembered
    assert not sweep.emits_child(old_media, expansion)  # not updated since: already emitted
    assert version_of(old_media, KEY, VERSION) in sweep.versions
    later = window_rules(previously=Previously(HORIZON, frozenset(sweep.versions)))
    sent = later.expands(message("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"))
    assert sent is not None and sent.children is Children.ALL
    assert not later.emits_child(old_media, sent)
    assert later.emits_child(media("ME2", "2026-03-02T10:00:00Z"), sent)


# --- a parent that counts its children: read once per version of the parent ------------------------------------

COUNTED = CountedParent(KEY, VERSION, "num_media")


def counted_rules(previously: Previously | None = AFTER_A_SYNC) -> SliceRules:
    return replace(window_rules(previously=previously), parent_cursor="date_updated", counted_parent=COUNTED)


def with_media(sid: str, date_sent: str, date_updated: str, num_media: int = 1) -> dict:
    return {**message(sid, date_sent, date_updated), "num_media": num_media}


def test_given_all_a_parents_children_read_when_it_is_read_again_unchanged_then_they_are_not_asked_for_again():
    """A message sent after this sync's horizon is read again by the next sync: its media, all read now, are
    remembered by its version, and the next sync (nothing changed) neither asks for nor emits them."""
    sent = with_media("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z")
    first = counted_rules()
    expansion = first.expands(sent)
    assert expansion is not None and not first.recalls(expansion)
    assert first.emits_child(media("ME1", "2026-03-02T10:00:00Z"), expansion)
    first.read_children(expansion, [media("ME1", "2026-03-02T10:00:00Z")])
    assert first.children == {
        COUNTED.version(sent): frozenset({version_of(media("ME1", "2026-03-02T10:00:00Z"), KEY, VERSION)})
    }

    second = counted_rules(Previously(SINCE, frozenset(first.versions), children=first.children))
    again = second.expands(sent)
    assert again is not None and second.recalls(again), "its media are not asked for again"
    assert second.children == first.children and second.versions >= set().union(*first.children.values()), (
        "what the first sync remembered of them is kept for the next one"
    )


def test_given_a_parent_changed_since_its_children_were_read_then_they_are_asked_for_again():
    sent = with_media("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z")
    first = counted_rules()
    expansion = first.expands(sent)
    assert expansion is not None
    first.read_children(expansion, [media("ME1", "2026-03-02T10:00:00Z")])
    changed = with_media("SM1", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z")
    second = counted_rules(Previously(SINCE, frozenset(first.versions), children=first.children))
    again = second.expands(changed)
    assert again is not None and not second.recalls(again)
    recounted = second.expands(with_media("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z", num_media=2))
    assert recounted is not None and not second.recalls(recounted), "a count that changed is another version"


@pytest.mark.parametrize(
    "parent",
    [
        # Twilio's lists are eventually consistent: a message's media may not be listed yet when it is.
        pytest.param(with_media("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z", 2), id="fewer-than-counted"),
        # Sent before this sync's horizon: the next sync does not read it again.
        pytest.param(with_media("SM1", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"), id="not-read-again"),
    ],
)
def test_given_children_the_next_sync_cannot_use_then_they_are_not_remembered_by_the_parents_version(parent):
    rules = counted_rules()
    expansion = rules.expands(parent)
    assert expansion is not None
    rules.read_children(expansion, [media("ME1", parent["date_sent"])])
    assert rules.children == {}


def test_given_children_recalled_by_one_sync_when_the_parent_changes_before_the_next_then_they_are_not_emitted_again():
    """Sync 1 reads a message and its media; sync 2, minutes later, finds it unchanged and does not ask for its
    media; sync 3 finds it changed (its status moved), asks for its media again, and must know them."""
    sent = with_media("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z")
    old_media = media("ME1", "2026-03-02T10:00:00Z")
    first = counted_rules()
    expansion = first.expands(sent)
    assert expansion is not None and first.emits_child(old_media, expansion)
    first.read_children(expansion, [old_media])
    second = counted_rules(Previously(SINCE, frozenset(first.versions), children=first.children))
    again = second.expands(sent)
    assert again is not None and second.recalls(again)
    third = counted_rules(Previously(SINCE, frozenset(second.versions), children=second.children))
    changed = third.expands(with_media("SM1", "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"))
    assert changed is not None and not third.recalls(changed)
    assert not third.emits_child(old_media, changed)


def test_given_a_state_left_by_airbytes_connector_then_a_record_whose_date_is_null_is_new():
    """Its date filters never returned an unsent message: the sweep emits those, once."""
    queued = message("SM1", None, "2026-02-01T00:00:00Z")  # before the cursor, never emitted by Airbyte's connector
    sweep = replace(window_rules(previously=Previously(SINCE, saw_nulls=False)), low=None, high=None, sweep=True)
    assert sweep.emits(queued)
    ours = replace(window_rules(), low=None, high=None, sweep=True)  # after one of our own syncs: it saw it
    assert not ours.emits(queued)


def test_given_a_call_changed_again_in_the_second_the_previous_sync_read_it_then_the_change_is_emitted():
    """Twilio stamps date_updated to the second. A call that ended at 12:00:00, read by the previous sync (which
    remembered that version: it was stamped after its horizon), then priced within that same second, keeps its
    date_updated: the version must still tell the two apart, or the priced call is never emitted."""
    from source_twilio.definitions import BY_NAME

    versions = BY_NAME["calls"].version_fields
    read = {
        "sid": "CA1",
        "status": "completed",
        "start_time": "2026-03-01T11:45:40Z",
        "end_time": "2026-03-01T12:00:00Z",
        "date_updated": "2026-03-01T12:00:00Z",
        "price": None,
    }
    priced = {**read, "price": -0.014}
    previously = Previously("2026-03-01T11:55:00Z", frozenset({version_of(read, KEY, versions)}))
    rules = SliceRules(
        key_fields=KEY,
        version_fields=versions,
        change_cursor="date_updated",
        time_field="start_time",
        low="2026-03-01T11:55:00Z",
        high="2026-03-01T12:05:00Z",
        reaches_back="2020-01-01T00:00:00Z",
        previously=previously,
        remember_from="2026-03-01T12:00:00Z",
        remember_updated_from="2026-03-01T12:00:00Z",
    )
    assert rules.place(priced) is Place.BEFORE
    assert rules.emits(priced), "changed within the second of the version read before: dropped"
    assert not rules.emits(dict(read)), "the version read before, unchanged: not emitted again"
