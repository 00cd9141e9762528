"""Real local peers for tests: an HTTP site on loopback and a fake Slack server."""
