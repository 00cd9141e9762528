"""Matching: the commitment catalog, normalisation, the matcher and its evaluation.

Pure functions: text in, references out. This room imports nothing else of ours.
"""

from matching.catalog import Catalog, CatalogError, Entry, load_catalog
from matching.matcher import MATCHER_VERSION, Match, Matcher

__all__ = ["MATCHER_VERSION", "Catalog", "CatalogError", "Entry", "Match", "Matcher", "load_catalog"]
