"""Evaluation against labelled statements: precision, recall and F1 over (statement, id) pairs.

Pure: rows in, figures out. Predicted action ids count their parent (domain, message, priority)
as predicted too, as the catalog's structure says; the same closure is applied to gold labels so
that a gold set listing only an action is scored fairly. Family ids are never implied.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from matching.catalog import Catalog, level_of
from matching.matcher import Matcher


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: set[str], gold: set[str]) -> None:
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    def figures(self) -> dict[str, float]:
        """precision, recall, F1; 0.0 where undefined (nothing predicted, or nothing to find)."""
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


@dataclass
class Evaluation:
    micro: Counts = field(default_factory=Counts)
    levels: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_lang: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_id: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    statements: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def scopes(self) -> dict[str, Any]:
        """The raw counts per scope, in the order and shape of :meth:`as_dict` (for tables)."""
        return {
            "micro": self.micro,
            "top": self.levels["top"],
            "action": self.levels["action"],
            "family": self.levels["family"],
            "by_lang": dict(sorted(self.by_lang.items())),
            "by_id": dict(sorted(self.by_id.items(), key=lambda kv: _id_key(kv[0]))),
        }

    def as_dict(self) -> dict[str, Any]:
        """The shape ``pledgewatch eval --json`` prints."""
        out: dict[str, Any] = {}
        for scope, value in self.scopes().items():
            if isinstance(value, Counts):
                out[scope] = value.figures()
            else:
                out[scope] = {key: counts.figures() for key, counts in value.items()}
        out["statements"] = self.statements
        return out


def _id_key(cid: str) -> tuple[Any, ...]:
    head, *rest = cid.split(".")
    return (head, *(int(p) for p in rest))


def close_over_parents(ids: Iterable[str], catalog: Catalog) -> set[str]:
    """``ids`` plus the parents of action ids (never the family ids)."""
    out = set(ids)
    for cid in list(out):
        entry = catalog.get(cid)
        if entry is not None and entry.level == "action" and entry.parent:
            out.add(entry.parent)
    return out


def evaluate(
    rows: Iterable[dict[str, Any]],
    catalog: Catalog,
    predict: Callable[[dict[str, Any]], Iterable[str]],
) -> Evaluation:
    """Score ``predict(row)`` against ``row["labels"]`` for every row."""
    result = Evaluation()
    for row in rows:
        gold = close_over_parents(row.get("labels") or [], catalog)
        predicted = close_over_parents(predict(row), catalog)
        lang = str(row.get("lang") or "unknown")
        result.statements += 1
        result.micro.add(predicted, gold)
        result.by_lang[lang].add(predicted, gold)
        for level in ("family", "top", "action"):
            result.levels[level].add(
                {c for c in predicted if level_of(c) == level}, {c for c in gold if level_of(c) == level}
            )
        for cid in predicted | gold:
            result.by_id[cid].add(predicted & {cid}, gold & {cid})
        if predicted != gold:
            result.errors.append(
                {"id": row.get("id"), "missed": sorted(gold - predicted), "extra": sorted(predicted - gold)}
            )
    return result


def matcher_predictor(matcher: Matcher) -> Callable[[dict[str, Any]], list[str]]:
    def predict(row: dict[str, Any]) -> list[str]:
        matches = matcher.match(str(row.get("text") or ""), lang=row.get("lang"), title=row.get("title"))
        return [m.commitment for m in matches]

    return predict
