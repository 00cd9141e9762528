"""The eyes of the product: source registry, the polite client, discovery, extraction, storage.

Extraction (``discover``, ``extract``) is kept apart from side effects (``store``) and from
politeness (``client``), as Scrapy keeps spiders, pipelines and middleware apart.
"""
