import pytest

from source_twilio.definitions import BY_NAME, CORE_STREAMS, STREAMS, Scope
from source_twilio.lists import _schema

EXPECTED_STREAMS = {
    "accounts", "addresses", "dependent_phone_numbers", "applications", "available_phone_number_countries",
    "available_phone_numbers_local", "available_phone_numbers_mobile", "available_phone_numbers_toll_free",
    "incoming_phone_numbers", "keys", "calls", "conferences", "conference_participants", "outgoing_caller_ids",
    "recordings", "transcriptions", "queues", "message_media", "messages", "usage_records", "usage_triggers", "alerts",
}  # fmt: skip
PRODUCT_STREAM_NAMES = {
    "conversations", "conversation_messages", "conversation_participants", "users", "user_conversations", "services",
    "roles", "flows", "executions", "step", "trunks", "verify_services", "messaging_services",
    "messaging_service_phone_numbers", "call_summaries", "verify_attempts", "monitor_events", "balance",
    "voice_pricing_countries", "messaging_pricing_countries", "phone_number_pricing_countries",
}  # fmt: skip


def test_streams_are_exactly_the_22_core_streams_and_the_21_product_streams_with_unique_names():
    names = [definition.name for definition in STREAMS]
    assert len(names) == len(set(names)) == 43
    assert [definition.name for definition in CORE_STREAMS] == [name for name in names if name in EXPECTED_STREAMS]
    assert set(names) == EXPECTED_STREAMS | PRODUCT_STREAM_NAMES


@pytest.mark.parametrize("definition", STREAMS, ids=lambda d: d.name)
def test_every_definition_is_consistent_with_its_schema_and_parent(definition):
    properties = _schema(definition.name)["properties"]
    assert set(definition.primary_key) <= set(properties)
    if definition.cursor_field:
        assert definition.cursor_field in properties
    if definition.time_filter:
        assert definition.time_filter.field in properties
    assert set(definition.drop_fields).isdisjoint(properties)
    assert definition.docs.startswith("https://www.twilio.com/docs/")
    if definition.scope is Scope.CHILD:
        assert definition.child_of is not None and definition.child_of.parent in BY_NAME
        parent_properties = _schema(definition.child_of.parent)["properties"]
        assert set(definition.child_of.path_fields.values()) <= set(parent_properties)
        placeholders = {name for name in definition.child_of.path_fields}
        assert all("{" + name + "}" in definition.path for name in placeholders)
    else:
        assert definition.child_of is None


def test_accounts_never_emit_auth_token():
    assert "auth_token" in BY_NAME["accounts"].drop_fields
    assert "auth_token" not in _schema("accounts")["properties"]


def test_usage_records_are_read_without_subaccount_usage_to_avoid_double_counting():
    assert BY_NAME["usage_records"].params["IncludeSubaccounts"] == "false"


def test_conferences_are_read_for_every_status():
    assert {p["Status"] for p in BY_NAME["conferences"].partitions} == {"init", "in-progress", "completed"}
