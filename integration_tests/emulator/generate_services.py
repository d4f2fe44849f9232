"""Builders for the records of Twilio's service and activity hosts: trunking, verify, messaging, insights, monitor events.

A mixin of :class:`~.generate_products.ProductGenerator` (which holds the account, the seeded
``rng`` and the ``_instant``/``_number`` helpers); same conventions as there.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from .generate import AccountGenerator, new_sid, place, retention_band, us_number
from .limits import MONITOR_EVENT_RETENTION_DAYS, VOICE_INSIGHTS_RETENTION_DAYS
from .store import Item, Row
from .timefmt import SECONDS_PER_DAY, iso_z

if TYPE_CHECKING:
    from .generate_products import ProductOptions

TRUNKING = "https://trunking.twilio.com/v1"
VERIFY = "https://verify.twilio.com/v2"
MESSAGING = "https://messaging.twilio.com/v1"
INSIGHTS = "https://insights.twilio.com/v1"
MONITOR = "https://monitor.twilio.com/v1"
API_BASE = "https://api.twilio.com/2010-04-01"

PARTIAL_SUMMARY_SECONDS = 30 * 60
"""A call summary is partial until 30 minutes after the call ended (docs voice/voice-insights)."""

_EVENTS = (
    ("phone-number.updated", "phone-number", "PN", "Phone number updated"),
    ("account.updated", "account", "AC", "Account updated"),
    ("api-key.created", "api-key", "SK", "API key created"),
    ("application.created", "application", "AP", "Application created"),
    ("user.logged-in", "user", "US", "User logged in"),
)
_CALL_STATES = ("completed",) * 8 + ("busy", "noanswer", "fail", "canceled")
_CARRIERS = ("Twilio", "AT&T Wireless", "Verizon Wireless", "T-Mobile USA")


def row(
    account_sid: str, record: dict[str, Any], ident: str, epoch: int, parent: str | None = None, **times: Any
) -> Row:
    return Row(Item(account_sid, record, parent), ident, epoch, times)


def dated(created: int, updated: int) -> dict[str, str]:
    return {"date_created": iso_z(created), "date_updated": iso_z(updated)}


class ServiceRecords:
    """Trunks, Verify services and attempts, Messaging services and numbers, call summaries, events, balance."""

    account: AccountGenerator
    sid: str

    def rng(self, stream: str) -> random.Random:
        raise NotImplementedError

    def _instant(self, rng: random.Random, now: int) -> int:
        raise NotImplementedError

    def _number(self, rng: random.Random) -> str:
        raise NotImplementedError

    # ----- trunking, verify and messaging services -----

    def trunks(self, count: int, now: int) -> list[Row]:
        rng = self.rng("trunks")
        rows = []
        for index in range(count):
            sid = new_sid(rng, "TK")
            created = self._instant(rng, now)
            url = f"{TRUNKING}/Trunks/{sid}"
            record = {
                "account_sid": self.sid,
                "domain_name": f"trunk-{index + 1}-{sid[-6:]}.pstn.twilio.com",
                "disaster_recovery_method": "POST",
                "disaster_recovery_url": "https://example.com/disaster-recovery",
                "friendly_name": f"SIP trunk {index + 1}",
                "secure": rng.random() < 0.5,
                "recording": {"mode": "do-not-record", "trim": "do-not-trim"},
                "transfer_mode": rng.choice(("disable-all", "enable-all", "sip-only")),
                "transfer_caller_id": rng.choice(("from-transferee", "from-transferor")),
                "cnam_lookup_enabled": False,
                "auth_type": "",
                "symmetric_rtp_enabled": False,
                "auth_type_set": [],
                **dated(created, created + rng.randint(0, 86_400)),
                "sid": sid,
                "url": url,
                "links": {name: f"{url}/{path}" for name, path in _TRUNK_LINKS.items()},
            }
            rows.append(row(self.sid, record, sid, created, date_created=created))
        return rows

    def verify_services(self, count: int, now: int) -> list[Row]:
        rng = self.rng("verify_services")
        rows = []
        for index in range(count):
            sid = new_sid(rng, "VA")
            created = self._instant(rng, now)
            url = f"{VERIFY}/Services/{sid}"
            record = {
                "sid": sid,
                "account_sid": self.sid,
                "friendly_name": f"Login verification {index + 1}",
                "code_length": rng.choice((4, 6, 8)),
                "lookup_enabled": False,
                "psd2_enabled": False,
                "skip_sms_to_landlines": False,
                "dtmf_input_required": True,
                "tts_name": None,
                "do_not_share_warning_enabled": False,
                "custom_code_enabled": False,
                "push": {"include_date": False, "apn_credential_sid": None, "fcm_credential_sid": None},
                "totp": {"issuer": "Example", "time_step": 30, "code_length": 6, "skew": 1},
                "default_template_sid": new_sid(rng, "HJ"),
                "whatsapp": {"msg_service_sid": None, "from": None},
                "passkeys": {"relying_party": None, "authenticator_attachment": None, "discoverable_credentials": None},
                "verify_event_subscription_enabled": False,
                **dated(created, created + rng.randint(0, 86_400)),
                "url": url,
                "links": {name: f"{url}/{path}" for name, path in _VERIFY_LINKS.items()},
            }
            rows.append(row(self.sid, record, sid, created, date_created=created))
        return rows

    def verify_attempts(self, options: ProductOptions, now: int, service_sids: list[str]) -> list[Row]:
        rng = self.rng("verify_attempts")
        earliest = max(self.account.created, now - options.activity_history_days * SECONDS_PER_DAY)
        placements = place(rng, options.verify_attempts, now=now, earliest=earliest)
        return [self.verify_attempt(rng, p.epoch, now, service_sids) for p in placements]

    def verify_attempt(self, rng: random.Random, created: int, now: int, service_sids: list[str]) -> Row:
        sid = new_sid(rng, "VL")
        channel = rng.choice(("sms", "sms", "sms", "call", "email", "whatsapp"))
        converted = now - created > 600 and rng.random() < 0.7
        updated = min(now, created + rng.randint(10, 300)) if converted else created
        to = f"user{rng.randint(1, 999)}@example.com" if channel == "email" else us_number(rng)[0]
        record = {
            "sid": sid,
            "account_sid": self.sid,
            "service_sid": rng.choice(service_sids) if service_sids else new_sid(rng, "VA"),
            "verification_sid": new_sid(rng, "VE"),
            **dated(created, updated),
            "conversion_status": "converted" if converted else "unconverted",
            "channel": channel,
            "price": None if channel == "email" else {"value": "0.05", "currency": "usd"},
            "channel_data": {"to": to},
            "url": f"{VERIFY}/Attempts/{sid}",
        }
        return row(self.sid, record, sid, created, date_created=created, date_updated=updated)

    def messaging_services(self, count: int, now: int) -> tuple[list[Row], list[Row]]:
        rng = self.rng("messaging_services")
        rows, numbers = [], []
        pool = list(self.account.numbers)
        for index in range(count):
            sid = new_sid(rng, "MG")
            created = self._instant(rng, now)
            url = f"{MESSAGING}/Services/{sid}"
            record = {
                "sid": sid,
                "account_sid": self.sid,
                "friendly_name": ("Notifications", "Marketing", "Two-factor", "Support")[index % 4],
                **dated(created, created + rng.randint(0, 86_400)),
                "inbound_request_url": "https://example.com/sms" if index % 2 == 0 else None,
                "inbound_method": "POST",
                "fallback_url": None,
                "fallback_method": "POST",
                "status_callback": "https://example.com/status",
                "sticky_sender": True,
                "mms_converter": True,
                "smart_encoding": True,
                "scan_message_content": "inherit",
                "fallback_to_long_code": False,
                "area_code_geomatch": True,
                "synchronous_validation": False,
                "validity_period": 14400,
                "url": url,
                "links": {name: f"{url}/{path}" for name, path in _MESSAGING_LINKS.items()},
                "usecase": rng.choice(("notifications", "marketing", "verification", "mixed")),
                "us_app_to_person_registered": False,
                "use_inbound_webhook_on_number": False,
            }
            rows.append(row(self.sid, record, sid, created, date_created=created))
            for _ in range(rng.randint(1, 3)):
                ours = pool.pop() if pool else None  # a number serves one Messaging Service at a time
                number_sid = ours.sid if ours else new_sid(rng, "PN")
                e164 = ours.e164 if ours else us_number(rng)[0]
                added = rng.randint(created, max(created, now - 3600))
                number = {
                    "sid": number_sid,
                    "account_sid": self.sid,
                    "service_sid": sid,
                    **dated(added, added),
                    "phone_number": e164,
                    "country_code": "US",
                    "capabilities": ["SMS", "MMS", "Voice"],
                    "url": f"{url}/PhoneNumbers/{number_sid}",
                }
                numbers.append(row(self.sid, number, number_sid, added, sid, date_created=added))
        return rows, numbers

    # ----- insights, monitor events, balance -----

    def call_summaries(self, options: ProductOptions, now: int) -> list[Row]:
        rng = self.rng("call_summaries")
        earliest = max(self.account.created, now - options.activity_history_days * SECONDS_PER_DAY)
        band = retention_band(now, VOICE_INSIGHTS_RETENTION_DAYS)
        placements = place(rng, options.call_summaries, now=now, earliest=earliest, avoid=(band,))
        return [self.call_summary(rng, p.epoch, now) for p in placements]

    def call_summary(self, rng: random.Random, start: int, now: int) -> Row:
        call_sid = new_sid(rng, "CA")
        state = rng.choice(_CALL_STATES)
        connect = rng.randint(5, 600) if state == "completed" else 0
        duration = connect + rng.randint(1, 25)
        end = min(now, start + duration)
        created = start - rng.randint(0, 3)
        caller, callee = self._number(rng), us_number(rng)[0]
        direction = rng.choice(("outbound_api", "inbound", "outbound_dial"))
        record = {
            "account_sid": self.sid,
            "call_sid": call_sid,
            "answered_by": rng.choice(("unknown", "human", "machine_start")),
            "call_type": rng.choice(("carrier", "carrier", "client", "sip")),
            "call_state": state,
            "processing_state": "partial" if now - end < PARTIAL_SUMMARY_SECONDS else "complete",
            "created_time": iso_z(created),
            "start_time": iso_z(start),
            "end_time": iso_z(end),
            "duration": end - start,
            "connect_duration": min(connect, end - start),
            "from": {"caller": caller, "carrier": "Twilio", "connection": "twilio_sdk", "country_code": "US"},
            "to": {"callee": callee, "carrier": rng.choice(_CARRIERS), "connection": "mobile", "country_code": "US"},
            "carrier_edge": {"properties": {"direction": direction, "media_region": "us1", "signaling_region": "us1"}},
            "client_edge": None,
            "sdk_edge": None,
            "sip_edge": None,
            "tags": rng.choice(([], [], ["silence"], ["high_jitter"])),
            "url": f"{INSIGHTS}/Voice/{call_sid}/Summary",
            "attributes": {"conference_participant": False},
            "properties": {"direction": direction, "disconnected_by": rng.choice(("caller", "callee")), "pdd_ms": 900},
            "trust": None,
            "annotation": None,
        }
        return row(self.sid, record, call_sid, start, start_time=start, end_time=end, created_time=created)

    def monitor_events(self, options: ProductOptions, now: int) -> list[Row]:
        rng = self.rng("monitor_events")
        earliest = max(self.account.created, now - options.activity_history_days * SECONDS_PER_DAY)
        band = retention_band(now, MONITOR_EVENT_RETENTION_DAYS)
        placements = place(rng, options.monitor_events, now=now, earliest=earliest, avoid=(band,))
        return [self.monitor_event(rng, p.epoch) for p in placements]

    def monitor_event(self, rng: random.Random, at: int) -> Row:
        sid = new_sid(rng, "AE")
        event_type, resource_type, prefix, description = rng.choice(_EVENTS)
        resource_sid = self.sid if prefix == "AC" else new_sid(rng, prefix)
        by_user = rng.random() < 0.6
        actor_sid = new_sid(rng, "US") if by_user else self.sid
        record = {
            "account_sid": self.sid,
            "actor_sid": actor_sid,
            "actor_type": "user" if by_user else "account",
            "description": description,
            "event_data": {"friendly_name": {"previous": "old name", "updated": "new name"}},
            "event_date": iso_z(at),
            "event_type": event_type,
            "resource_sid": resource_sid,
            "resource_type": resource_type,
            "sid": sid,
            "source": "web" if by_user else "api",
            "source_ip_address": f"203.0.113.{rng.randint(1, 254)}",
            "url": f"{MONITOR}/Events/{sid}",
            "links": {"actor": f"{API_BASE}/Accounts/{self.sid}", "resource": f"{API_BASE}/Accounts/{self.sid}"},
        }
        return row(self.sid, record, sid, at, event_date=at)

    def balance(self) -> Row:
        """The account's balance; "child accounts do not contain balance information" (spec): nulls for subaccounts."""
        is_main = self.account.slot == "account0"
        rng = self.rng("balance")
        record = {
            "account_sid": self.sid,
            "balance": f"{rng.randint(2_000, 250_000) / 100:.2f}" if is_main else None,
            "currency": "USD" if is_main else None,
        }
        return row(self.sid, record, self.sid, 0)


_TRUNK_LINKS = {
    "origination_urls": "OriginationUrls",
    "credential_lists": "CredentialLists",
    "ip_access_control_lists": "IpAccessControlLists",
    "phone_numbers": "PhoneNumbers",
    "recording": "Recording",
}
_VERIFY_LINKS = {
    "verification_checks": "VerificationCheck",
    "verifications": "Verifications",
    "rate_limits": "RateLimits",
    "messaging_configurations": "MessagingConfigurations",
    "entities": "Entities",
    "webhooks": "Webhooks",
    "access_tokens": "AccessTokens",
}
_MESSAGING_LINKS = {
    "phone_numbers": "PhoneNumbers",
    "short_codes": "ShortCodes",
    "alpha_senders": "AlphaSenders",
    "messages": "Messages",
    "us_app_to_person": "Compliance/Usa2p",
    "us_app_to_person_usecases": "Compliance/Usa2p/Usecases",
    "channel_senders": "ChannelSenders",
    "destination_alpha_senders": "DestinationAlphaSenders",
}
