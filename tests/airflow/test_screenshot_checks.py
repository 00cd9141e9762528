"""The screenshot bench's image checks are not vacuous: a blank page fails them, a drawn one passes."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bench.dashboard_screenshot import VIEWPORT, Checks, check_png, image_facts


def _png(draw: bool) -> bytes:
    img = Image.new("RGB", (VIEWPORT[0], VIEWPORT[1] + 200), "white")
    if draw:
        pen = ImageDraw.Draw(img)
        for row in range(0, img.height, 40):
            pen.rectangle((20, row + 5, 1400, row + 12), fill=(9, 105, 218))
            for i in range(60):
                pen.text((30 + i * 22, row + 18), chr(65 + i % 26), fill=(i * 4 % 256, 40, 80))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_a_blank_page_fails_and_a_drawn_page_passes():
    blank, drawn = Checks(), Checks()
    check_png(blank, "blank", image_facts(_png(False)), VIEWPORT[1])
    check_png(drawn, "drawn", image_facts(_png(True)), VIEWPORT[1])
    assert any(f.startswith("blank: not blank") for f in blank.failed)
    assert any(f.startswith("blank: size") for f in blank.failed)
    assert drawn.failed == [], drawn.failed
