"""Secrets stay secret, credentials go only to Twilio, TLS is never off.

- Every line a run writes (stdout and stderr, debug logging included, with the HTTP layer failing in every way the
  emulator can) is scanned for every secret of the run: tokens, API key secrets, and the Basic-auth header values.
  The other robustness suites scan their runs too (``harness.assert_no_secrets``).
- A next-page link to another host is refused with an error naming it, and that host gets no request; a redirect
  to another host never carries the credentials.
- No code path turns TLS verification off, and every request is sent with it on.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from integration_tests.connector_runner import (
    ALL_STREAMS,
    Run,
    api_key_config,
    auth_token_config,
    catalog_for,
    secrets_of,
)
from integration_tests.emulator import Dataset, DatasetOptions, Faults, serve
from integration_tests.harness import (
    OtherHost,
    answering,
    assert_no_secrets,
    known_secrets,
    run_in_process,
    run_process,
    secrets_in,
)
from source_twilio import lists
from source_twilio.config import API_BASE, EMULATOR_URL_ENV, MONITOR_BASE, TwilioConfig
from source_twilio.pagination import next_page_url
from source_twilio.source import sync_context

pytestmark = pytest.mark.e2e

SOURCE = Path(__file__).resolve().parents[1] / "source_twilio"
HTTP_FAULTS = Faults(rate_500=0.06, rate_503=0.03, rate_html=0.03, rate_drop=0.03, rate_transient_401=0.03, seed=17)
"""Errors of every kind the HTTP layer reports, quoting URLs, bodies and headers."""
DEBUG_STREAMS = ["accounts", "keys", "queues", "alerts"]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(DatasetOptions(seed=71))


@pytest.fixture(scope="module")
def emulator(dataset):
    with serve(dataset) as running:
        yield running


@pytest.fixture(scope="module")
def debug_runs(dataset, tmp_path_factory) -> dict[str, Any]:
    """Reads with --debug and LOG_LEVEL=debug (the CDK then logs requests, headers and bodies), with faults; the two
    processes run at the same time, as they spend most of it in back-off."""
    configs = {"auth_token": auth_token_config(dataset), "api_key": api_key_config(dataset)}
    with serve(dataset, faults=HTTP_FAULTS) as emulator:

        def read(name: str) -> tuple[Run, dict[str, Any]]:
            run = run_process(
                "read",
                emulator.url,
                tmp_path_factory.mktemp(f"debug-{name}"),
                config=configs[name],
                catalog=catalog_for(DEBUG_STREAMS),
                extra_args=["--debug"],
                env={"LOG_LEVEL": "debug"},
            )
            return run, configs[name]

        with ThreadPoolExecutor(len(configs)) as pool:
            return dict(zip(configs, pool.map(read, configs), strict=True))


@pytest.mark.parametrize("credentials", ["auth_token", "api_key"])
def test_given_debug_logging_and_http_errors_when_reading_then_no_line_holds_the_configured_credentials(
    debug_runs, credentials
):
    run, config = debug_runs[credentials]
    assert any("Authorization" in line for line in run.stdout.splitlines()), "debug logs show no request headers"
    assert_no_secrets(run, secrets_in(config))


@pytest.mark.parametrize("credentials", ["auth_token", "api_key"])
def test_given_debug_logging_when_reading_then_no_line_holds_any_auth_token_twilio_sent(
    debug_runs, dataset, credentials
):
    """/Accounts.json answers hold the auth_token of every account listed (under API key authentication the main
    account's too, which is then no configured secret), and with --debug the CDK logs each response body."""
    run, config = debug_runs[credentials]
    assert_no_secrets(run, known_secrets(dataset, config))


def test_given_twilio_unreachable_when_reading_then_the_errors_quoting_urls_hold_no_secret(
    dataset, tmp_path, monkeypatch
):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    config = auth_token_config(dataset)
    run = run_in_process("read", "http://127.0.0.1:9", tmp_path, config=config, catalog=catalog_for(["queues"]))
    assert run.returncode != 0 and any("ConnectionError" in error["message"] for error in run.errors), run.errors
    assert_no_secrets(run, known_secrets(dataset, config))


@pytest.fixture(scope="module")
def rejected_runs(emulator, tmp_path_factory) -> list[tuple[str, Run, dict[str, Any]]]:
    """check and read with a wrong Auth Token and a wrong API key secret, the four processes at the same time."""
    dataset = emulator.dataset
    wrong_token = auth_token_config(dataset)
    wrong_token["credentials"]["auth_token"] = "rejected-token-0123456789abcdef"
    wrong_secret = api_key_config(dataset)
    wrong_secret["credentials"]["api_key_secret"] = "rejected-secret-0123456789abcdef"
    cases = [(command, config) for config in (wrong_token, wrong_secret) for command in ("check", "read")]

    def run(case: tuple[str, dict[str, Any]]) -> tuple[str, Run, dict[str, Any]]:
        command, config = case
        catalog = catalog_for(["queues"]) if command == "read" else None
        workdir = tmp_path_factory.mktemp("rejected")
        return command, run_process(command, emulator.url, workdir, config=config, catalog=catalog), config

    with ThreadPoolExecutor(len(cases)) as pool:
        return list(pool.map(run, cases))


def test_given_rejected_credentials_when_checking_and_reading_then_no_line_holds_them(emulator, rejected_runs):
    for command, run, config in rejected_runs:
        assert "20003" in run.stdout, (command, run.stdout[-2000:])
        assert_no_secrets(run, known_secrets(emulator.dataset, config))


# --- credentials only for Twilio's hosts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "link"),
    [("messages", "next_page_uri"), ("alerts", "meta.next_page_url"), ("conversations", "meta.next_page_url")],
)
def test_given_a_next_page_link_to_another_host_when_reading_then_it_is_refused_and_that_host_gets_no_request(
    dataset, tmp_path, monkeypatch, stream, link
):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    monkeypatch.setattr(lists, "PAGE_SIZE", 5)  # every list has a next page
    config = auth_token_config(dataset)
    with OtherHost() as other, serve(dataset, faults=Faults(foreign_next_page_host=other.url)) as emulator:
        run = run_in_process("read", emulator.url, tmp_path, config=config, catalog=catalog_for([stream]))
        requests_made = emulator.stats()["total_requests"]
    assert requests_made > 0
    assert other.requests == [], f"the other host got {len(other.requests)} requests"
    assert run.returncode != 0
    (error, *_) = [e for e in run.errors if e.get("stream_descriptor", {}).get("name") == stream]
    assert other.url in error["message"] and "not a Twilio host" in error["message"]
    assert_no_secrets(run, known_secrets(dataset, config))


def test_given_a_redirect_to_another_host_when_reading_then_the_credentials_do_not_follow(
    dataset, tmp_path, monkeypatch
):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    config = auth_token_config(dataset)
    main = dataset.credentials["account_sid"]
    with OtherHost() as other, serve(dataset) as emulator:
        location = {"Location": f"{other.url}/2010-04-01/Accounts/{main}/Queues.json"}
        with answering(emulator, lambda request: request.path.endswith(f"{main}/Queues.json"), 302, {}, location):
            run_in_process("read", emulator.url, tmp_path, config=config, catalog=catalog_for(["queues"]))
    assert [request["authorization"] for request in other.requests if request["authorization"]] == []


def test_given_production_when_configured_then_credentials_go_only_to_twilios_https_hosts(monkeypatch):
    monkeypatch.delenv(EMULATOR_URL_ENV, raising=False)
    config = TwilioConfig.from_mapping({"account_sid": "AC" + "0" * 32, "auth_token": "t" * 32})
    products = ("conversations", "studio", "trunking", "verify", "messaging", "insights", "pricing")
    assert config.allowed_hosts == {f"https://{name}.twilio.com" for name in ("api", "monitor", *products)}
    assert (config.api_base, config.monitor_base) == (API_BASE, MONITOR_BASE)


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/2010-04-01/Accounts.json?Page=1",
        "http://api.twilio.com/2010-04-01/Accounts.json?Page=1",  # downgrade to plain HTTP
        "//evil.example/2010-04-01/Accounts.json",  # scheme-relative
        "https://api.twilio.com.evil.example/2010-04-01/Accounts.json",
        "https://api.twilio.com@evil.example/2010-04-01/Accounts.json",
        "https://api.twilio.com:8443/2010-04-01/Accounts.json",
        "https://evil.twilio.com/2010-04-01/Accounts.json",  # a Twilio domain, but not one configured
        "file:///etc/passwd",
    ],
)
def test_given_production_hosts_when_a_next_page_link_points_elsewhere_then_it_is_refused(link):
    allowed = {"https://api.twilio.com", "https://monitor.twilio.com"}
    with pytest.raises(AirbyteTracedException, match="not a Twilio host"):
        next_page_url({"next_page_uri": link}, f"{API_BASE}/2010-04-01/", allowed, "accounts")


def test_given_a_malformed_next_page_link_when_paging_then_the_error_is_the_connectors():
    allowed = {"https://api.twilio.com", "https://monitor.twilio.com"}
    with pytest.raises(AirbyteTracedException, match="Stream accounts"):
        next_page_url({"next_page_uri": "https://[::1/2010-04-01/x"}, f"{API_BASE}/2010-04-01/", allowed, "accounts")


# --- TLS ------------------------------------------------------------------------------------------------------


TLS_OFF = re.compile(
    r"verify\s*=\s*False|\.verify\s*=\s*(False|0|None)|CERT_NONE|_create_unverified_context|check_hostname\s*=\s*False"
    r"|disable_warnings|InsecureRequestWarning|PYTHONHTTPSVERIFY|CURL_CA_BUNDLE"
)


def test_given_the_connector_source_when_searched_then_no_code_turns_tls_verification_off():
    offending = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(SOURCE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if TLS_OFF.search(line)
    ]
    assert offending == []


def test_given_a_sync_context_when_built_then_its_session_verifies_tls(dataset, monkeypatch):
    monkeypatch.delenv(EMULATOR_URL_ENV, raising=False)
    context = sync_context(TwilioConfig.from_mapping(auth_token_config(dataset)))
    assert context.session.verify is True


def test_given_check_and_read_when_every_request_is_sent_then_tls_verification_is_on(emulator, tmp_path, monkeypatch):
    sent_with: list[Any] = []
    original = requests.adapters.HTTPAdapter.send

    def recording_send(adapter, request, **kwargs):
        sent_with.append(kwargs.get("verify"))
        return original(adapter, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", recording_send)
    config = auth_token_config(emulator.dataset)
    for command, catalog in (("check", None), ("read", catalog_for(ALL_STREAMS[:6]))):
        run = run_in_process(command, emulator.url, tmp_path, config=config, catalog=catalog)
        assert run.returncode == 0, run.stdout[-2000:]
    assert sent_with, "no request was sent"
    assert all(verify is True or (isinstance(verify, str) and verify) for verify in sent_with), set(
        map(repr, sent_with)
    )


def test_given_the_secrets_scan_when_a_secret_is_printed_then_it_fails(dataset):
    """The scan itself: a line holding a secret (or its Basic-auth header value) is caught."""
    header = secrets_in(auth_token_config(dataset))[1]
    leaky = Run(0, [], stdout='{"type":"LOG","log":{"message":"Authorization: Basic ' + header + '"}}\n', stderr="")
    with pytest.raises(pytest.fail.Exception):
        assert_no_secrets(leaky, secrets_of(dataset))
