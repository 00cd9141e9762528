"""A live check of one source: can we fetch it now, does it list statements, do they extract?

``pledgewatch sources check`` runs this for each registry entry. It goes through the same
polite client (robots, pacing, address checks) and the same discoverer and extractor as a
pass, but stores nothing: it answers "is this entry of the registry still right?" after a
site redesign, or before a new source is switched on.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from scrapers.client import FetchError, PoliteClient
from scrapers.discover import DiscoveryError, Item, discoverer_for
from scrapers.extract import ExtractionError, extract
from scrapers.registry import SourceSpec


@dataclass
class EntryCheck:
    url: str
    status: int | None = None
    bytes: int = 0
    seconds: float = 0.0
    items: int = 0
    next_pages: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class SampleCheck:
    url: str
    title: str | None = None
    published_at: str | None = None
    lang: str | None = None
    chars: int = 0
    method: str | None = None
    error: str | None = None


@dataclass
class SourceCheck:
    key: str
    kind: str
    verdict: str = "ok"  # ok | empty | failed
    entries: list[EntryCheck] = field(default_factory=list)
    samples: list[SampleCheck] = field(default_factory=list)
    first_items: list[str] = field(default_factory=list)

    @property
    def problem(self) -> str | None:
        for entry in self.entries:
            if entry.error:
                return entry.error
        for sample in self.samples:
            if sample.error:
                return sample.error
        if self.verdict == "empty":
            return "no statement links found (pattern or markup changed?)"
        return None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problem"] = self.problem
        return data


def check_source(client: PoliteClient, spec: SourceSpec, *, samples: int = 1) -> SourceCheck:
    """Fetch the source's entry documents and ``samples`` statements now; store nothing."""
    config = dict(spec.config)
    if len(spec.languages) == 1:
        config.setdefault("lang", spec.languages[0])
    allowed = spec.allowed_hosts or None
    result = SourceCheck(key=spec.key, kind=spec.kind)
    items: list[Item] = []
    if spec.kind == "page":
        items = [Item(url=spec.url, lang=config.get("lang"))]
    else:
        discoverer = discoverer_for(spec.kind, config)
        queue = list(spec.entry_urls)
        children: set[str] = set()
        while queue:
            url = queue.pop(0)
            entry = EntryCheck(url=url)
            result.entries.append(entry)
            started = time.monotonic()
            try:
                resp = client.get(url, allowed_hosts=allowed)
                entry.status, entry.bytes = resp.status, len(resp.body)
                found = discoverer.parse(resp.body, resp.url)
            except (FetchError, DiscoveryError, ExtractionError) as exc:
                entry.error = str(exc)
                continue
            finally:
                entry.seconds = round(time.monotonic() - started, 3)
            entry.items, entry.next_pages, entry.warnings = (
                len(found.items),
                len(found.next_pages),
                found.warnings,
            )
            items.extend(i for i in found.items if i.url not in {x.url for x in items})
            if spec.kind == "sitemap" and not found.items and found.next_pages and url not in children:
                # a sitemap index lists sitemaps, not statements: read its newest child, as a
                # pass would, before calling the source empty
                children.add(found.next_pages[0].url)
                queue.insert(0, found.next_pages[0].url)
    result.first_items = [i.url for i in items[:5]]
    pattern = re.compile(config["pattern"]) if config.get("pattern") else None
    for item in items[: max(0, samples)]:
        sample = SampleCheck(url=item.url)
        result.samples.append(sample)
        try:
            resp = client.get(item.url, allowed_hosts=allowed)
            extracted = extract(
                resp.body, resp.url, content_type=resp.content_type, charset=resp.charset, config=config
            )
        except (FetchError, ExtractionError) as exc:
            sample.error = str(exc)
            continue
        sample.title = extracted.title
        sample.published_at = extracted.published_at.isoformat() if extracted.published_at else None
        sample.lang = extracted.lang
        sample.chars = len(extracted.text)
        sample.method = extracted.method
        if pattern is not None and spec.kind == "page" and not pattern.search(item.url):
            sample.error = f"{item.url} does not match the source's pattern"
    primary_failed = bool(result.entries) and (
        result.entries[0].error is not None
        # the index answered but its newest sitemap did not: the source yields nothing
        or (spec.kind == "sitemap" and not items and any(e.error for e in result.entries))
    )
    if primary_failed or any(s.error for s in result.samples):
        result.verdict = "failed"
    elif not items:
        result.verdict = "empty"
    return result
