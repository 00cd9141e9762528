"""The decisions the DAGs delegate: batches, the fetch pool's size, Slack from a Connection."""

from __future__ import annotations

from pipeline.airflow_support import (
    batch_workers,
    fetch_pool_slots,
    pack_by_host,
    slack_from_connection,
    sum_counts,
)
from pipeline.settings import Settings


def test_batches_keep_each_host_whole_and_respect_the_size():
    sources = [
        ("a1", "https://a.example/1"),
        ("b1", "https://b.example/1"),
        ("a2", "https://A.example/2"),
        ("c1", "https://c.example/1"),
        ("a3", "https://a.example/3"),
        ("d1", "https://d.example/1"),
    ]
    batches = pack_by_host(sources, 2)
    assert batches == [["a1", "a2", "a3"], ["b1", "c1"], ["d1"]]
    assert sorted(k for b in batches for k in b) == sorted(k for k, _ in sources)
    assert pack_by_host([], 4) == []


def test_pool_and_workers_keep_airflow_within_the_fetch_budget():
    for workers, size in [(16, 4), (16, 5), (3, 4), (1, 1), (10, 3)]:
        settings = Settings(scrape_workers=workers, scrape_batch_size=size)
        in_flight = fetch_pool_slots(settings) * batch_workers(settings)
        assert 1 <= in_flight <= max(workers, 1), (workers, size)
    defaults = Settings()  # 64 fetches in flight, 4 sources a batch: 16 batches at once
    assert fetch_pool_slots(defaults) == defaults.scrape_workers // defaults.scrape_batch_size == 16


def test_counts_add_up_across_batches():
    assert sum_counts([{"new_versions": 2, "sources": 3}, None, {"new_versions": 1, "sources": 1}]) == {
        "new_versions": 3,
        "sources": 4,
    }


def test_slack_settings_from_webhook_and_api_connections():
    url = "https://hooks.slack.com/services/T0/B0/XYZ"
    assert slack_from_connection("slackwebhook", url, None, {}) == {"slack_webhook_url": url}
    assert slack_from_connection("slackwebhook", "T0/B0/XYZ", None, {}) == {"slack_webhook_url": url}
    assert slack_from_connection("slackwebhook", "/T0/B0/XYZ", "http://127.0.0.1:9/services/", {}) == {
        "slack_webhook_url": "http://127.0.0.1:9/services/T0/B0/XYZ"
    }
    assert slack_from_connection("slack", "xoxb-1", None, {"base_url": "http://127.0.0.1:9/api/"}) == {
        "slack_bot_token": "xoxb-1",
        "slack_api_url": "http://127.0.0.1:9/api/",
    }
    assert slack_from_connection("slack", "", None, {}) == {}
    assert slack_from_connection("http", "secret", None, {}) == {}
