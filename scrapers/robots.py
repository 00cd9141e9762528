"""robots.txt as RFC 9309 reads it: groups, longest match, ``*`` and ``$``, and Crawl-delay.

The standard library's parser matches paths by plain prefix, so ``Disallow: /*?print=`` or
``Disallow: /*.pdf$`` never match anything there: a polite crawler would ignore exactly the
rules sites write to keep crawlers out of heavy pages. This parser follows the RFC instead:

- a group is one or more ``user-agent`` lines followed by rules; the group whose product token
  matches ours (case-insensitive) applies, several matching groups are merged, and ``*`` is the
  fallback when none matches;
- the longest matching rule wins, ``allow`` wins a tie; ``*`` matches any run of characters and
  a trailing ``$`` anchors the end; paths are compared percent-decoded;
- ``crawl-delay`` (not in the RFC, but widely written) is read from the applicable group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Rule:
    allow: bool
    path: str
    regex: re.Pattern[str]

    @property
    def length(self) -> int:
        return len(self.path)


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    crawl_delay: float | None = None


def _compile(path: str) -> re.Pattern[str]:
    anchored = path.endswith("$")
    body = path[:-1] if anchored else path
    pattern = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(pattern + ("$" if anchored else ""), re.DOTALL)


def _normalise_path(path: str) -> str:
    # Compare decoded forms so that /caf%C3%A9 and /café are one path; keep %2F encoded.
    return unquote(path.replace("%2F", "%252F").replace("%2f", "%252f"))


@dataclass(frozen=True)
class Robots:
    """The rules that apply to one user agent on one origin."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None

    @classmethod
    def allow_all(cls) -> Robots:
        return cls()

    @classmethod
    def disallow_all(cls) -> Robots:
        return cls(rules=(Rule(False, "/", _compile("/")),))

    @classmethod
    def parse(cls, text: str, user_agent: str) -> Robots:
        token = product_token(user_agent)
        groups: list[_Group] = []
        current: _Group | None = None
        last_was_agent = False
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line or ":" not in line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name in {"user-agent", "useragent"}:
                if current is None or not last_was_agent:
                    current = _Group()
                    groups.append(current)
                current.agents.append(value.lower())
                last_was_agent = True
                continue
            last_was_agent = False
            if current is None:
                continue  # rules before any user-agent line belong to no group
            if name in {"allow", "disallow"}:
                if not value:
                    continue  # "Disallow:" with no path allows everything: no rule
                path = _normalise_path(value if value.startswith(("/", "*")) else "/" + value)
                current.rules.append(Rule(name == "allow", path, _compile(path)))
            elif name == "crawl-delay":
                try:
                    current.crawl_delay = max(0.0, float(value))
                except ValueError:
                    continue
        mine = [g for g in groups if any(a != "*" and a == token for a in g.agents)]
        if not mine:
            mine = [g for g in groups if "*" in g.agents]
        rules = tuple(rule for g in mine for rule in g.rules)
        delays = [g.crawl_delay for g in mine if g.crawl_delay is not None]
        return cls(rules=rules, crawl_delay=max(delays) if delays else None)

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        path = _normalise_path((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        if path == "/robots.txt":
            return True
        best: Rule | None = None
        for rule in self.rules:
            if rule.regex.match(path) and (
                best is None or rule.length > best.length or (rule.length == best.length and rule.allow)
            ):
                best = rule
        return best is None or best.allow


def product_token(user_agent: str) -> str:
    """``PledgeWatch/0.1 (+https://...)`` -> ``pledgewatch``: what robots.txt groups name."""
    match = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return match.group(0).lower() if match else "*"
