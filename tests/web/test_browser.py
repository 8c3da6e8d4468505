"""The web app in a real headless Chromium (Debian's ``chromium``, driven by Playwright):
submit the seed page's text, watch progress, open a card, filter by label, review a
claim and see the review after a reload. Skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest

from tests.conftest import SEED_PAGE
from tests.fakes import fake_models
from tests.web.conftest import TEXT, MakeApp, live_server

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")


@pytest.fixture
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def _article() -> tuple[str, str]:
    if SEED_PAGE.is_file():
        text = SEED_PAGE.read_text(encoding="utf-8")
        return text.split("\n", 1)[0], text
    return "Back pain notes", TEXT


def test_browser_submit_watch_filter_review(browser, make_app: MakeApp) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()

    def gated_models():  # type: ignore[no-untyped-def]
        release.wait(60)
        return fake_models()

    title, text = _article()
    with live_server(make_app(load_models=gated_models)) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        page.goto(base + "/")
        page.click("summary:has-text('paste text')")
        page.fill("#title", title)
        page.fill("#text", text)
        page.click("button:has-text('Check')")
        page.wait_for_url(f"{base}/checks/*")
        check_url = page.url

        # Progress: the claims found are listed while the models are still loading.
        page.wait_for_selector("#live-claims li", timeout=15_000)
        assert page.locator("#live-progress").is_visible()
        found = page.locator("#live-claims li").count()
        assert found >= 3
        release.set()

        # Done: the page reloads itself into the annotated report.
        page.wait_for_selector(".card", timeout=30_000)
        assert page.locator(".card").count() == found
        assert page.get_attribute("body", "data-claimscan-js") == "ready"

        # Open a card from its highlight in the text.
        first = page.locator("a.claim").first
        card_id = first.get_attribute("data-card")
        first.click()
        assert page.url.endswith(f"#{card_id}")
        assert page.locator(f"#{card_id}").is_visible()

        # Filter by a label that is present: only its cards stay visible.
        counts = {
            label: page.locator(f'.card[data-label="{label}"]').count()
            for label in ("supported", "contested", "commercial-promotional")
        }
        label = max(counts, key=lambda k: counts[k])
        page.click(f'.filter button[data-show="{label}"]')
        visible = [
            c.get_attribute("data-label") for c in page.locator(".card").all() if c.is_visible()
        ]
        assert visible == [label] * counts[label]
        page.click('.filter button[data-show="all"]')

        # Review the first card, overriding its label, then reload.
        card = page.locator(".card").first
        claim_id = card.locator("section.review").get_attribute("id")
        card.locator("summary:has-text('Review this claim')").click()
        card.locator("input[name=reviewer]").fill("Ana Lima")
        card.locator("select[name=label]").select_option("contested")
        card.locator("textarea[name=note]").fill("Only small trials; see PMID list.")
        card.locator("button:has-text('Mark reviewed')").click()
        page.wait_for_url(f"{check_url}#{claim_id}")
        page.reload()
        review = page.locator(f"#{claim_id}")
        assert "Reviewed by Ana Lima" in review.inner_text()
        assert "Only small trials" in review.inner_text()
        assert "Contested" in review.locator(".review__label").inner_text()

        # The name is remembered for the next review.
        page.locator(".card").nth(1).locator("summary").last.click()
        assert page.locator(".card").nth(1).locator("input[name=reviewer]").input_value() == (
            "Ana Lima"
        )
        assert problems == []
