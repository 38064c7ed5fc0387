from __future__ import annotations

import pytest

from infolinia.config import Settings, SettingsError


def test_environment_then_flags() -> None:
    env = {
        "INFOLINIA_COOKIE_SECURE": "true",
        "INFOLINIA_SESSION_HOURS": "8.5",
        "INFOLINIA_HTTP_PORT": "9000",
        "INFOLINIA_DATABASE_URL": "sqlite:///x.db",
    }
    s = Settings.from_env(env)
    assert s.cookie_secure is True and s.session_hours == 8.5 and s.http_port == 9000
    assert s.database_url == "sqlite:///x.db"
    assert Settings.from_env(env, http_port=7000, host=None).http_port == 7000  # a flag wins; None = not given
    assert Settings.from_env({}).cookie_secure is False


@pytest.mark.parametrize(("name", "value"), [("COOKIE_SECURE", "maybe"), ("HTTP_PORT", "80a"), ("SESSION_HOURS", "x")])
def test_bad_values_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"INFOLINIA_{name}"):
        Settings.from_env({f"INFOLINIA_{name}": value})
