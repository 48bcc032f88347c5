"""The web chat page in a real headless Chromium (Debian's, driven by Playwright) against a real
uvicorn server over the real corpus: streamed answer, numbered citations, feedback, document list,
a phone-sized layout, and that HTML in questions and documents is shown as text, never run.

Screenshots go to test-artifacts/ (gitignored). Needs /usr/bin/chromium (.ci/run installs it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.answer import Citation
from bot.api.app import create_app
from bot.channels.rendering import web_citation_link
from bot.service import AssistantService
from retrieval.library import PolicyLibrary
from tests.bot.api.conftest import ADMIN_KEY, api_settings
from tests.bot.api.live import copy_index, live_server
from tests.conftest import REPO_ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts"
QUESTION = "淄博计划的保障措施有哪些？"
ZIBO_NUMBER = "淄政办字〔2021〕78号"
PHONE = {"width": 390, "height": 844}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]

XSS_DOC = """---
id: test-xss-doc-2026
title: <img src=x onerror="window.__xss='title'">测试<script>window.__xss='title-script'</script>文件
issuer: <b>测试市</b>人民政府
doc_number: 测政发〔2026〕<i>9</i>号
published: 2026-01-05
period: 2026-2028
---
一、总体要求

到2028年，测试市建成<img src=x onerror="window.__xss='quote'">星际驿站示范点9个<script>window.__xss='quote-script'</script>。
"""


@pytest.fixture(scope="module")
def web(built_library: PolicyLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server over a private copy of the built index (the XSS test uploads a document)."""
    data_dir = copy_index(built_library, tmp_path_factory.mktemp("web") / "data")
    settings = api_settings(data_dir)
    service = AssistantService.from_settings(settings)
    with live_server(create_app(service=service, settings=settings), free_port()) as url:
        yield url, data_dir


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    return path


def ask(page, question: str):
    """Type and send a question; returns the last assistant message once the answer is complete."""
    page.fill("#question", question)
    page.click("#send")
    answer = page.locator(".msg.assistant").last
    answer.locator(".feedback").wait_for(timeout=60_000)  # rendered when the `done` event arrived
    return answer


def test_chat_page(web: tuple[str, Path], browser) -> None:
    url, data_dir = web
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "/")
    assert page.title() == "政策问答助手"

    # document side list: the three shipped documents, each marked as partially included
    page.locator("#doc-list .doc-title").nth(2).wait_for()
    assert page.locator("#doc-list .doc-title").count() == 3
    assert page.locator("#doc-list .badge.partial").count() == 3
    assert page.locator("#doc-list .badge.partial").first.inner_text() == "部分收录"
    assert ZIBO_NUMBER in page.locator("#doc-list").inner_text()

    # record every text the answer bubble shows while streaming
    page.evaluate(
        """() => {
        window.__texts = [];
        // every text node the answer bubble got (records are kept even when callbacks are batched)
        new MutationObserver((records) => {
          for (const r of records) {
            if (r.target.classList && r.target.classList.contains('text') && r.target.closest('.msg.assistant')) {
              for (const n of r.addedNodes) window.__texts.push(n.textContent);
            }
          }
        }).observe(document.getElementById('messages'), {subtree: true, childList: true});
      }"""
    )
    answer = ask(page, QUESTION)
    text = answer.locator(".text").inner_text()
    assert "[1]" in text and "正在检索" not in text
    assert not answer.evaluate("el => el.classList.contains('refused') || el.classList.contains('error')")
    texts = page.evaluate("window.__texts")
    assert any(t and "正在检索" not in t and t != text for t in texts), "no partial (streamed) state seen"
    assert page.locator(".msg.user .text").last.inner_text() == QUESTION

    # numbered citation, collapsed until clicked; then quote, title, 文号 and section path
    citations = answer.locator(".citations details")
    assert citations.count() >= 1
    first = citations.first
    summary = first.locator("summary").inner_text()
    assert summary.startswith("[1] 《")
    assert not first.locator("blockquote").is_visible()
    first.locator("summary").click()
    quote = first.locator("blockquote")
    assert quote.is_visible() and len(quote.inner_text().strip()) > 5
    meta = first.locator(".cite-meta").inner_text()
    assert "文件：《淄博市新型基础设施建设三年行动计划(2021-2023年)》" in meta
    assert f"文号：{ZIBO_NUMBER}" in meta
    assert "章节：" in meta and "保障措施" in meta
    shot(page, "web-desktop.png")

    # 👍 is stored in the feedback table next to the logged answer
    answer.locator(".feedback button", has_text="👍").click()
    answer.locator(".feedback", has_text="感谢反馈").wait_for()
    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        rows = db.execute(
            "SELECT f.rating, a.question FROM feedback f JOIN answers a USING (answer_id)"
        ).fetchall()
    assert rows == [("up", QUESTION)]
    assert errors == []
    context.close()


def test_phone_layout(web: tuple[str, Path], browser) -> None:
    url, _ = web
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(url + "/")
    assert not page.locator("#docs").is_visible()  # the side list folds away on a phone
    answer = ask(page, QUESTION)
    answer.locator(".citations summary").first.click()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px on a phone"
    box = answer.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    composer = page.locator("#ask-form").bounding_box()
    assert composer and composer["y"] + composer["height"] <= PHONE["height"] + 1  # input stays on screen
    shot(page, "web-phone.png")

    page.click("#toggle-docs")
    page.locator("#docs").wait_for(state="visible")
    assert page.locator("#doc-list .badge.partial").count() == 3
    shot(page, "web-phone-docs.png")
    context.close()


def test_html_is_shown_as_text(web: tuple[str, Path], browser) -> None:
    url, _ = web
    headers = {"X-Admin-Key": ADMIN_KEY}
    files = {"file": ("xss.md", XSS_DOC.encode(), "text/markdown")}
    uploaded = httpx.post(f"{url}/v1/documents", files=files, headers=headers, timeout=120)
    assert uploaded.status_code == 201, uploaded.text
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(url + "/")
        page.locator("#doc-list .doc-title").nth(3).wait_for()
        titles = page.locator("#doc-list .doc-title").all_inner_texts()
        assert any(t.startswith("<img src=x onerror=") and "<script>" in t for t in titles)
        assert "<b>测试市</b>" in page.locator("#doc-list").inner_text()

        question = '<img src=x onerror="window.__xss=\'question\'"><script>window.__xss="q2"</script>星际驿站示范点建多少个？'
        answer = ask(page, question)
        assert page.locator(".msg.user .text").last.inner_text() == question
        answer.locator(".citations summary").first.click()
        quote = answer.locator(".citations blockquote").first.inner_text()
        assert "<img src=x onerror=" in quote or "<script>" in quote or "星际驿站" in quote
        assert "<img" in answer.locator(".citations summary").first.inner_text()
        page.wait_for_timeout(300)  # give any injected handler a chance to run
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert (
            page.locator("#messages img, #messages script, #doc-list img, #doc-list script, b, i").count()
            == 0
        )
        assert dialogs == []
    finally:
        context.close()
        deleted = httpx.delete(f"{url}/v1/documents/test-xss-doc-2026", headers=headers, timeout=120)
        assert deleted.status_code == 200, deleted.text


def test_citation_view_from_a_chat_channel_link(web: tuple[str, Path], browser) -> None:
    """The link a WeCom/DingTalk answer gives for a source opens the page with the quote marked in its document."""
    url, _ = web
    answer = httpx.post(f"{url}/v1/ask", json={"question": QUESTION}, timeout=60).json()
    citation = answer["citations"][0]
    link = web_citation_link(url + "/")
    assert link is not None
    target = link(Citation(**citation))
    assert target == f"{url}/#cite={citation['doc_id']}:{citation['start']}-{citation['end']}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(target)
    view = page.locator(".citation-view")
    view.locator("mark").wait_for(timeout=30_000)
    assert view.locator("mark").inner_text() == citation["quote"]
    assert f"《{citation['title']}》{citation['doc_number']}" in view.locator(".text").inner_text()
    assert len(view.locator("blockquote").inner_text()) > len(citation["quote"])  # with its context
    shot(page, "web-citation-view.png")
    assert errors == []
    context.close()


LEAD = "保障措施共有三项，分别是加强组织领导、强化要素支持和培育产业生态[1][3][5]。"


def _watch_lead(
    built_library: PolicyLibrary, tmp_path_factory: pytest.TempPathFactory, browser, replies: list[str]
) -> tuple[list[list], tuple[bool, str, str], str]:
    """Ask QUESTION on the page in a generative mode whose slow OpenAI-compatible model (on 127.0.0.1) gives
    `replies` in turn; every change of the answer's lead and extract is recorded as [ms since send, lead text,
    extract text, lead streaming]. Returns the changes, the final lead (visible, text, class) and the extract."""
    from tests.support.fake_openai import FakeOpenAI

    data_dir = copy_index(built_library, tmp_path_factory.mktemp("web-lead") / "data")
    with FakeOpenAI() as fake:
        fake.piece_delay = 0.25  # 4 characters every 0.25 s: the lead takes ~2.5 s to arrive
        fake.first_token_delay = 0.25  # a model reads its prompt first: the extract is never in the same read
        settings = api_settings(
            data_dir, answer_mode="openai", llm_base_url=fake.base_url, llm_timeout=10.0, answer_cache_size=0
        )
        service = AssistantService.from_settings(settings)
        fake.replies = list(replies)
        with live_server(create_app(service=service, settings=settings), free_port()) as url:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url + "/")
            page.evaluate(
                """() => {
                window.__seen = [];  // [ms since send, which element, its text] for every change
                const t0 = performance.now();
                window.__t0 = () => { window.__start = performance.now(); };
                new MutationObserver(() => {
                  const box = document.querySelector('.msg.assistant:last-child');
                  if (!box) return;
                  const lead = box.querySelector('.lead'), text = box.querySelector('.text');
                  window.__seen.push([performance.now() - (window.__start || t0), lead.textContent,
                                      text.textContent, lead.classList.contains('streaming')]);
                }).observe(document.getElementById('messages'),
                           {subtree: true, childList: true, characterData: true, attributes: true});
              }"""
            )
            page.evaluate("window.__t0()")
            answer = ask(page, QUESTION)
            seen = page.evaluate("window.__seen")
            lead_box, text_box = answer.locator(".lead"), answer.locator(".text")
            final = (lead_box.is_visible(), lead_box.inner_text(), lead_box.get_attribute("class") or "")
            extract = text_box.inner_text()
            shot(page, "web-lead.png" if len(replies) == 1 else "web-lead-revised.png")
            context.close()
        assert errors == []
    return seen, final, extract


def test_extract_at_once_then_the_lead_streams_into_place(
    built_library: PolicyLibrary, tmp_path_factory: pytest.TempPathFactory, browser
) -> None:
    """A generative mode: the verbatim extract is on the page before the model's first token; the lead then
    streams in above it and stays once it passed its check."""
    seen, final, extract = _watch_lead(built_library, tmp_path_factory, browser, [LEAD])
    extract_at = next(t for t, lead, text, _ in seen if text.startswith("依据《"))
    lead_at = next(t for t, lead, _, streaming in seen if lead and streaming)
    # the extract was on the page at once and well before the model's first piece (the fake waits 0.25 s
    # per piece, and the whole lead takes seconds), with no lead text yet
    assert extract_at < lead_at
    assert all(not lead for t, lead, _, _ in seen if t <= extract_at)
    partial = [lead for _, lead, text, streaming in seen if streaming and text.startswith("依据《")]
    assert partial and all(LEAD.startswith(p.rstrip("▍")) and p != LEAD for p in partial[:1])
    # at the end: the lead in place above the unchanged extract
    assert final[:2] == (True, LEAD) and "streaming" not in final[2]
    assert extract.startswith("依据《") and "加强组织领导" in extract


def test_a_rejected_lead_is_replaced_by_the_models_second_try(
    built_library: PolicyLibrary, tmp_path_factory: pytest.TempPathFactory, browser
) -> None:
    """The first lead fails the check (a figure no quote holds): it streams, is withdrawn, and the model's second
    try streams into its place; the page never shows the two run together, and ends with the second."""
    wrong = "保障措施共有三项，每年安排资金5000万元[1]。"
    seen, final, extract = _watch_lead(built_library, tmp_path_factory, browser, [wrong, LEAD])
    leads = [lead.rstrip("▍") for _, lead, _, streaming in seen if streaming and lead]
    first_right = next(
        i for i, lead in enumerate(leads) if LEAD.startswith(lead) and not wrong.startswith(lead)
    )
    assert any(wrong.startswith(lead) and not LEAD.startswith(lead) for lead in leads[:first_right])
    assert all(LEAD.startswith(lead) for lead in leads[first_right:])
    assert final[:2] == (True, LEAD) and "5000" not in final[1] + extract
