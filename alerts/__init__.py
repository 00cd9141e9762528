"""Alerts: the rules that decide what is owed to a monitor, the outbox, Slack rendering and delivery.

Every Slack call goes through this room. Everything scraped is escaped here before it can
reach Slack.
"""
