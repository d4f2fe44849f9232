import pytest

ACCOUNT_SID = "AC" + "1" * 32
SUBACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "unit-test-auth-token-0123456789abcdef"


@pytest.fixture
def config() -> dict:
    return {
        "account_sid": ACCOUNT_SID,
        "credentials": {"auth_type": "auth_token", "auth_token": AUTH_TOKEN},
        "start_date": "2026-01-01T00:00:00Z",
    }


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    """Retries back off with time.sleep: never wait in unit tests."""
    import time

    monkeypatch.setattr(time, "sleep", lambda seconds: None)
