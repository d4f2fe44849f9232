"""The sync's session reads the environment's proxy settings once per host, and applies them as requests does."""

from __future__ import annotations

import requests
import requests.sessions

from source_twilio.source import parse_config, sync_context

API = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=1000"
MONITOR = "https://monitor.twilio.com/v1/Alerts?PageSize=1000"


def merged(session: requests.Session, url: str) -> dict:
    """What the CDK's HTTP client asks of the session before each request."""
    return session.merge_environment_settings(url=url, proxies={}, stream=None, verify=None, cert=None)


def test_given_a_syncs_requests_when_settings_are_merged_then_the_environment_is_read_once_per_host(
    config, monkeypatch
):
    reads: list[str] = []
    environ_proxies = requests.sessions.get_environ_proxies

    def counted(url, no_proxy=None):
        reads.append(url)
        return environ_proxies(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    session = sync_context(parse_config(config)).session
    for page in range(5):
        merged(session, f"{API}&Page={page}")
    merged(session, MONITOR)
    assert len(reads) == 2  # was 6: requests scanned the whole environment for every request


def test_given_proxies_in_the_environment_then_each_host_gets_what_requests_itself_would_give(config, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "monitor.twilio.com")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/bundle.pem")
    session = sync_context(parse_config(config)).session
    plain = requests.Session()
    for url in (API, MONITOR, API, MONITOR):
        assert merged(session, url) == merged(plain, url)
    assert merged(session, API)["proxies"]["https"] == "http://proxy.example:3128"
    assert "https" not in merged(session, MONITOR)["proxies"]
    first = merged(session, API)
    first["proxies"]["https"] = "changed by a caller"
    assert merged(session, API)["proxies"]["https"] == "http://proxy.example:3128"


def test_given_explicit_settings_then_they_are_merged_as_requests_does(config, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = sync_context(parse_config(config)).session
    explicit = {"https": "http://other.example:8080"}
    assert session.merge_environment_settings(API, dict(explicit), True, False, None) == (
        requests.Session().merge_environment_settings(API, dict(explicit), True, False, None)
    )
