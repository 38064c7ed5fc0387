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


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COOKIE_SECURE", "maybe"),
        ("HTTP_PORT", "80a"),
        ("SESSION_HOURS", "x"),
    ],
)
def test_bad_values_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"INFOLINIA_{name}"):
        Settings.from_env({f"INFOLINIA_{name}": value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("http_port", 0),
        ("sip_port", 70000),
        ("login_attempts", 0),
        ("login_window_s", float("nan")),
        ("max_body_bytes", -1),
        ("session_hours", float("inf")),
        ("min_password_length", 0),
        ("trace_stalls_ms", -1),
        ("trace_stalls_ms", float("nan")),
    ],
)
def test_out_of_range_values_are_refused(field: str, value: float) -> None:
    with pytest.raises(SettingsError, match=field):
        Settings.from_env({}, **{field: value})


def test_rtp_ports_and_data_dir_read_from_the_environment() -> None:
    settings = Settings.from_env({"INFOLINIA_RTP_PORTS": "30000-30099", "INFOLINIA_DATA_DIR": "/tmp/x"})
    assert settings.rtp_port_range == (30000, 30099)
    assert settings.data_dir == "/tmp/x"


@pytest.mark.parametrize("value", ["", "10000", "20000-10000", "100-200", "10000-10001", "a-b", "60000-70000"])
def test_bad_rtp_ports_are_named(value: str) -> None:
    with pytest.raises(SettingsError, match="rtp_ports"):
        Settings(rtp_ports=value)
