"""Pages written for scraper tests, following the structure of the real sites.

No saved page exists for un.org/sg, press.un.org, news.un.org or ohchr.org
(``/work/shared/real-pages/README.md``), so these follow what public scrapers select on
(``notes/sources-evidence.md``): UN News bodies in ``.field--type-text-long`` with ``.media``
and ``.type-twitter`` embeds, press.un.org bodies in ``.block-field-block-node-press-body``
with the "Press Release" type link, Drupal pagers, WordPress feeds; and the page chrome
every one of them has (menus, share bars, related stories, footers).
"""

from __future__ import annotations

from html import escape

CHROME_TOP = (
    '<header class="site-header"><a class="logo" href="/">United Nations</a>'
    '<nav class="main-menu"><ul><li><a href="/en/about">About</a></li><li><a href="/en/news">News</a></li>'
    '<li><a href="/en/media">Media</a></li><li><a href="/en/contact">Contact</a></li></ul></nav>'
    '<div class="language-switcher"><a href="/fr">Français</a> <a href="/es">Español</a></div></header>'
)
CHROME_BOTTOM = (
    '<footer class="site-footer"><p>Copyright United Nations. Terms of use. Privacy notice. '
    "Fraud alert. Contact. Site index.</p></footer>"
)
SHARE = (
    '<div class="social-share"><a href="https://www.facebook.com/sharer.php">Facebook</a> '
    '<a href="https://twitter.com/intent/tweet">Twitter</a> <a href="mailto:?">Email</a></div>'
)


def _paras(paragraphs: list[str]) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def un_news_story(title: str, paragraphs: list[str], *, lang: str = "en", date: str = "2026-11-18") -> str:
    """news.un.org story: Drupal 9, body in .field--type-text-long, media and tweets inside it."""
    body = _paras(paragraphs[:1])
    body += (
        '<div class="media"><img src="/sites/photo.jpg" alt=""><p class="caption">UN Photo/Jean Marc Ferré '
        "A photo caption that is not part of the story.</p></div>"
    )
    body += _paras(paragraphs[1:])
    body += '<blockquote class="type-twitter"><p>Embedded tweet text, not the story.</p></blockquote>'
    return (
        f'<!DOCTYPE html><html lang="{lang}" dir="ltr"><head><meta charset="utf-8">'
        f"<title>{escape(title)} | UN News</title>"
        f'<meta property="og:title" content="{escape(title)}">'
        f'<meta property="article:published_time" content="{date}T10:00:00+00:00">'
        f'<link rel="canonical" href="https://news.un.org/{lang}/story/2026/11/1160001"></head><body>'
        f'{CHROME_TOP}<main><article><h1 class="story-title">{escape(title)}</h1>'
        f'<div class="field field--name-field-text-column field--type-text-long field--label-hidden">{body}</div>'
        f"{SHARE}"
        '<section class="related-stories"><h2>Related</h2><ul><li><a href="/en/story/2026/10/1">Another story</a>'
        "</li></ul></section></article></main>"
        f"{CHROME_BOTTOM}</body></html>"
    )


def press_release(
    title: str, paragraphs: list[str], *, symbol: str = "SG/SM/22345", date: str = "18 November 2026"
) -> str:
    """press.un.org: the type link, the document symbol, body in .block-field-block-node-press-body."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} | Meetings Coverage and Press Releases</title></head><body>"
        f'{CHROME_TOP}<main><div class="region-content">'
        '<div class="block-field-block-node-press-type"><a href="/en/press-release" hreflang="en">Press Release</a></div>'
        f'<div class="block-field-block-node-symbol">{escape(symbol)}</div>'
        f'<div class="block-field-block-node-date"><time datetime="2026-11-18T12:00:00Z">{escape(date)}</time></div>'
        f"<h1>{escape(title)}</h1>"
        '<div class="block-field-block-node-press-body"><div class="field field--name-body">'
        f"{_paras(paragraphs)}</div></div>"
        '<div class="block-related"><h2>For information media. Not an official record.</h2></div>'
        f"</div></main>{CHROME_BOTTOM}</body></html>"
    )


def sg_statement(title: str, paragraphs: list[str], *, date: str = "2026-11-18") -> str:
    """un.org/sg statement: Drupal, title in h1, body in the node's field, date in a span."""
    return (
        '<!DOCTYPE html><html lang="en" dir="ltr"><head><meta charset="utf-8">'
        f"<title>{escape(title)} | United Nations Secretary-General</title></head><body>"
        f'{CHROME_TOP}<div class="container"><section id="block-system-main">'
        f'<article class="node node-statement"><h1 class="page-header">{escape(title)}</h1>'
        f'<div class="field field-name-field-dated"><span class="date-display-single">{date}</span></div>'
        f'<div class="field field-name-body">{_paras(paragraphs)}</div>{SHARE}</article>'
        f"</section></div>{CHROME_BOTTOM}</body></html>"
    )


def ohchr_press_release(title: str, paragraphs: list[str], *, lang: str = "en") -> str:
    """ohchr.org (Drupal 9 since 2021): dateline in the text, share bar, related content, tags."""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)} | OHCHR</title></head><body>"
        f'{CHROME_TOP}<main role="main"><div class="ohchr-page"><h1>{escape(title)}</h1>'
        '<div class="ohchr-share"><a href="https://twitter.com/share">Share</a></div>'
        f'<div class="field--name-body">{_paras(paragraphs)}</div>'
        '<div class="tags"><a href="/en/topic/civic-space">Civic space</a> '
        '<a href="/en/countries">Countries</a></div>'
        '<div class="field--name-field-related-content"><h2>Related</h2><a href="/en/press-releases/2026/10/x">'
        "Earlier release</a></div></div></main>"
        f"{CHROME_BOTTOM}</body></html>"
    )


def drupal_listing(items: list[tuple[str, str, str]], *, page: int = 0, last: int = 0) -> str:
    """A Drupal views listing with a ?page=N pager (press.un.org, ohchr.org)."""
    rows = "".join(
        f'<div class="views-row"><article><h3 class="title"><a href="{escape(h)}">{escape(t)}</a></h3>'
        f'<time datetime="{d}">{d[:10]}</time><p class="teaser">Teaser text for {escape(t)}.</p></article></div>'
        for h, t, d in items
    )
    pager = ""
    if page < last:
        pager = (
            '<nav class="pager" role="navigation"><ul class="pager__items">'
            f'<li class="pager__item pager__item--next"><a href="?page={page + 1}" rel="next">Next page</a></li>'
            "</ul></nav>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Latest | Site</title></head><body>'
        f'{CHROME_TOP}<main><h1>Latest</h1><div class="view-content">{rows}</div>{pager}</main>'
        f"{CHROME_BOTTOM}</body></html>"
    )


def rss(items: list[tuple[str, str, str]], *, lang: str = "en", base: str = "") -> str:
    """RSS 2.0 as UN News and HRW publish it: (link, title, RFC 822 date) per item."""
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(h)}</link><pubDate>{d}</pubDate>"
        f"<guid>{escape(h)}</guid></item>"
        for h, t, d in items
    )
    base_attr = f' xml:base="{escape(base)}"' if base else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{base_attr}><channel><title>News</title>'
        f"<link>https://example.org/</link><description>Test feed</description><language>{lang}</language>"
        f"{entries}</channel></rss>"
    )


def sitemap(urls: list[tuple[str, str | None]]) -> str:
    rows = "".join(
        f"<url><loc>{escape(u)}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</url>" for u, m in urls
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'


def sitemap_index(children: list[tuple[str, str | None]]) -> str:
    rows = "".join(
        f"<sitemap><loc>{escape(u)}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</sitemap>"
        for u, m in children
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
    )


SG_MESSAGE = [
    "Excessive restrictions on civic space are spreading, and human rights defenders who cooperate "
    "with the United Nations face intimidation and reprisals in too many countries.",
    "I call on all States to protect those who speak up, to investigate every allegation of reprisal, "
    "and to hold the perpetrators accountable.",
    "Civil society is not a threat; it is a partner in building peaceful, just and inclusive societies. "
    "The United Nations will continue to stand with them.",
]


def atom(entries: list[tuple[str, str, str]], *, lang: str = "en", base: str = "") -> str:
    """An Atom 1.0 feed (Drupal and WordPress offer one): (href, title, RFC 3339 date) per
    entry; links may be relative to ``xml:base``."""
    rows = "".join(
        f'<entry><title type="html">{escape(t)}</title><link rel="alternate" href="{escape(h)}"/>'
        f"<id>tag:example.org,2026:{escape(h)}</id><updated>{d}</updated><published>{d}</published>"
        f'<summary type="html">{escape("<p>Summary of " + t + "</p>")}</summary></entry>'
        for h, t, d in entries
    )
    base_attr = f' xml:base="{escape(base)}"' if base else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}"'
        f"{base_attr}><title>Statements</title><id>tag:example.org,2026:feed</id>"
        f"<updated>2026-11-18T10:00:00Z</updated>{rows}</feed>"
    )


def wordpress_listing(items: list[tuple[str, str, str]], *, next_href: str | None = None) -> str:
    """amnesty.org's 2025 block theme (megaCrawler plugin 2435): ``h2.post-title.wp-block-post-title
    > a`` per post, a category link and a date in each card, ``a.wp-block-query-pagination-next``."""
    cards = "".join(
        '<li class="wp-block-post"><article class="post-card">'
        '<a class="post-category" href="/en/latest/news/">News</a>'
        f'<h2 class="post-title wp-block-post-title"><a href="{escape(h)}">{escape(t)}</a></h2>'
        f'<div class="wp-block-post-date"><time datetime="{d}">{d[:10]}</time></div></article></li>'
        for h, t, d in items
    )
    pager = (
        f'<nav class="section wp-block-query-pagination"><a class="wp-block-query-pagination-next" '
        f'href="{escape(next_href)}">Next</a></nav>'
        if next_href
        else ""
    )
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>News - Amnesty International'
        "</title></head><body>"
        '<header class="page-header"><nav><a href="/en/latest/">Latest</a> <a href="/en/latest/news/">News</a> '
        '<a href="/en/latest/research/">Research</a> <a href="/en/donate/">Donate</a></nav></header>'
        f'<main><ul class="wp-block-post-template">{cards}</ul>{pager}</main>'
        '<footer><a href="/en/about-us/contact/">Contact</a></footer></body></html>'
    )


def un_news_story_es_dateline(title: str, paragraphs: list[str]) -> str:
    """Noticias ONU without a date in the metadata: only the Spanish dateline dates it."""
    page = un_news_story(title, paragraphs, lang="es")
    return page.replace('<meta property="article:published_time" content="2026-11-18T10:00:00+00:00">', "")


PRESS_INTRO = (
    "The following statement was issued today by the Spokesperson for Secretary-General António Guterres:"
)

FR_STORY = [
    "Le Haut-Commissaire des Nations Unies aux droits de l’homme a déclaré mardi que l’espace civique se "
    "réduit dans toutes les régions du monde.",
    "Il a appelé les États à protéger les défenseurs des droits humains et à mettre fin aux représailles "
    "contre ceux qui coopèrent avec l’ONU.",
]
ES_STORY = [
    "NUEVA YORK, 3 de marzo de 2026 – El Secretario General pidió a los Estados que protejan a las personas "
    "defensoras de los derechos humanos y que pongan fin a las represalias.",
    "La sociedad civil no es una amenaza, sino un aliado para construir sociedades pacíficas, justas e "
    "inclusivas, señaló en su mensaje.",
]
