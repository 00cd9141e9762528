"""Settings: defaults, TOML file, environment precedence, masking and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import Settings, SettingsError, load_settings


def test_defaults_use_sqlite_under_data_dir(tmp_path):
    settings = load_settings({"PLEDGEWATCH_DATA_DIR": str(tmp_path)})
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'pledgewatch.db'}"
    assert settings.allow_private_addresses is False, "production never fetches private addresses by default"


def test_file_then_environment(tmp_path):
    cfg = tmp_path / "pw.toml"
    cfg.write_text(
        '[pledgewatch]\nslack_channel = "#from-file"\nmin_delay_s = 2.5\nslack_routes = {"c2a.7" = "#tech"}\n'
    )
    settings = load_settings({"PLEDGEWATCH_CONFIG": str(cfg), "PLEDGEWATCH_MIN_DELAY_S": "0.5"})
    assert settings.slack_channel == "#from-file"
    assert settings.min_delay_s == 0.5  # environment wins over the file
    assert settings.slack_routes == {"c2a.7": "#tech"}


def test_file_in_data_dir_is_found(tmp_path):
    (tmp_path / "pledgewatch.toml").write_text("per_host_concurrency = 3\n")
    assert load_settings({"PLEDGEWATCH_DATA_DIR": str(tmp_path)}).per_host_concurrency == 3


def test_types_are_coerced_and_errors_name_the_setting(tmp_path):
    s = load_settings(
        {"PLEDGEWATCH_ALLOW_PRIVATE_ADDRESSES": "yes", "PLEDGEWATCH_SLACK_ROUTES": '{"ngo": "#ngo"}'}
    )
    assert s.allow_private_addresses is True and s.slack_routes == {"ngo": "#ngo"}
    with pytest.raises(SettingsError, match="PLEDGEWATCH_MAX_RETRIES"):
        load_settings({"PLEDGEWATCH_MAX_RETRIES": "many"})
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense_setting = 1\n")
    with pytest.raises(SettingsError, match="unknown setting 'nonsense_setting'"):
        load_settings({"PLEDGEWATCH_CONFIG": str(bad)})


def test_masked_hides_secrets():
    s = Settings(
        data_dir=Path("/tmp/x"),
        database_url="postgresql+psycopg://pw:hunter2secret@db:5432/pw",
        slack_bot_token="xoxb-1234567890-abcdefghij",
        slack_webhook_url="https://hooks.slack.com/services/T1/B2/verysecretpart",
    )
    masked = s.masked()
    dumped = repr(masked)
    assert "hunter2secret" not in dumped and "abcdefghij" not in dumped and "verysecretpart" not in dumped
    assert masked["database_url"].startswith("postgresql+psycopg://pw:***@db")
    assert masked["slack_bot_token"].startswith("xoxb")
