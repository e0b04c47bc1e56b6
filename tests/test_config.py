"""Settings: DESIGN.md's environment names and defaults, the signing key, one-sentence errors."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from platformdirs import user_data_dir

from backend.config import ConfigError, Settings, get_settings, load_settings
from backend.main import create_app

KEY_32 = "k" * 32


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer .env and no settings from the environment: each test sets its own."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def assert_one_sentence(message: str) -> None:
    assert "\n" not in message
    assert message.endswith(".")
    assert message[0].isupper()


def test_environment_names_are_those_of_the_design(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment = {
        "DATABASE_URL": "postgresql+asyncpg://app@db/app",
        "SECRET_KEY": KEY_32,
        "ENVIRONMENT": "production",
        "JWT_ALGORITHM": "HS512",
        "ACCESS_TOKEN_EXPIRE_MINUTES": "5",
        "API_HOST": "0.0.0.0",
        "API_PORT": "9001",
        "LOGIN_MAX_FAILURES": "3",
        "LOGIN_LOCKOUT_MINUTES": "2",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.resolved_database_url == "postgresql+asyncpg://app@db/app"
    assert settings.signing_key() == KEY_32
    assert settings.is_production
    assert (settings.jwt_algorithm, settings.access_token_expire_minutes) == ("HS512", 5)
    assert (settings.api_host, settings.api_port) == ("0.0.0.0", 9001)
    assert (settings.login_max_failures, settings.login_lockout_minutes) == (3, 2)


def test_dotenv_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("API_PORT=8123\nLOGIN_MAX_FAILURES=7\n", encoding="utf-8")
    settings = load_settings()
    assert (settings.api_port, settings.login_max_failures) == (8123, 7)


def test_defaults_are_those_of_the_design() -> None:
    settings = load_settings()
    assert not settings.is_production
    assert settings.jwt_algorithm == "HS256"
    assert settings.access_token_expire_minutes == 30
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert (settings.login_max_failures, settings.login_lockout_minutes) == (5, 15)
    assert settings.data_dir == Path(user_data_dir("backend-console"))


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATA_DIR", "DATABASE_URL", "API_PORT", "ENVIRONMENT", "JWT_ALGORITHM"):
        monkeypatch.setenv(name, "")
    (tmp_path / ".env").write_text("LOGIN_MAX_FAILURES=\n", encoding="utf-8")
    settings = load_settings()
    assert settings.data_dir == Path(user_data_dir("backend-console"))  # not the cwd
    assert settings.uses_default_database
    assert (settings.api_port, settings.login_max_failures) == (8000, 5)
    assert not settings.is_production
    assert settings.jwt_algorithm == "HS256"  # still pinned, to the default


def test_without_database_url_the_database_is_a_sqlite_file_in_the_data_dir(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.uses_default_database
    expected = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'backend-console.db'}"
    assert settings.resolved_database_url == expected


def test_development_without_secret_key_generates_one_kept_private(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backend.config")
    data_dir = tmp_path / "fresh" / "data"
    key = load_settings(data_dir=data_dir).signing_key()
    key_file = data_dir / "secret_key"
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text(encoding="utf-8") == key
    assert list(data_dir.iterdir()) == [key_file]  # no draft left behind
    again = load_settings(data_dir=data_dir)
    assert again.signing_key() == key
    assert again.signing_key() == key
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"No SECRET_KEY set: generated one and stored it in {key_file} (mode 0600)."
    ]


def test_an_empty_secret_key_counts_as_unset(tmp_path: Path) -> None:
    development = load_settings(secret_key="", data_dir=tmp_path)
    assert len(development.signing_key()) >= 32
    production = load_settings(secret_key="", environment="production", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        production.signing_key()


def test_an_empty_key_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(data_dir=tmp_path).signing_key()
    assert_one_sentence(str(caught.value))
    assert "SECRET_KEY" in str(caught.value)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "SECRET_KEY must be set when ENVIRONMENT=production."),
        ("k" * 31, "SECRET_KEY must be at least 32 characters when ENVIRONMENT=production."),
    ],
    ids=["missing", "31-chars"],
)
def test_production_needs_a_32_character_secret_key(
    tmp_path: Path, key: str | None, message: str
) -> None:
    settings = load_settings(secret_key=key, environment="production", data_dir=tmp_path)
    for check in (
        settings.signing_key,
        settings.validate_for_startup,
        lambda: create_app(settings),
    ):
        with pytest.raises(ConfigError) as caught:
            check()
        assert str(caught.value) == message
        assert_one_sentence(str(caught.value))
    assert not (tmp_path / "secret_key").exists()  # production never generates a key


def test_production_accepts_a_32_character_key(tmp_path: Path) -> None:
    settings = load_settings(secret_key=KEY_32, environment="production", data_dir=tmp_path)
    settings.validate_for_startup()
    assert settings.signing_key() == KEY_32


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_hmac_algorithms_are_accepted(algorithm: str) -> None:
    assert load_settings(jwt_algorithm=algorithm).jwt_algorithm == algorithm


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "none", "hs256"])
def test_other_jwt_algorithms_are_rejected(monkeypatch: pytest.MonkeyPatch, algorithm: str) -> None:
    monkeypatch.setenv("JWT_ALGORITHM", algorithm)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        "Setting JWT_ALGORITHM is invalid: JWT_ALGORITHM must be HS256, HS384 or HS512."
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("API_PORT", "abc"),
        ("API_PORT", "70000"),
        ("ENVIRONMENT", "staging"),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
        ("LOGIN_MAX_FAILURES", "0"),
        ("LOGIN_LOCKOUT_MINUTES", "-1"),
    ],
)
def test_invalid_values_are_one_sentence_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"Setting {name} is invalid: ")
    assert_one_sentence(str(caught.value))


def test_get_settings_is_read_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("API_PORT", "8111")
        first = get_settings()
        monkeypatch.setenv("API_PORT", "8222")
        assert get_settings() is first
        assert first.api_port == 8111
    finally:
        get_settings.cache_clear()
