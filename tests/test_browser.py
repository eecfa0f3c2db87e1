"""The web chat in a real browser: headless Chromium from Debian's package, driven by Playwright.

Starts app.py on a free port over an index of the test excerpts (hash embedder, so no model
load), asks questions as a user would, uploads a report, and calls the `ask` API endpoint.
Screenshots go to tests/artifacts/.
"""

from pathlib import Path

import pytest

from qa.store import build_index
from tests.browser_helpers import CHROMIUM, ask, browser_page, running_app, upload

ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")]


@pytest.fixture
def server(settings):
    build_index(settings)
    with running_app(settings.index_dir, settings.reports_dir, env={"QA_EMBEDDER": "hash"}) as url:
        yield url


@pytest.fixture
def page(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(server) as page:
        yield page


def test_english_question_shows_cited_highlighted_figure(page):
    answer, _ = ask(page, "Which district targets 16% industrial growth?")
    direct = answer.locator(".qa-direct")
    assert direct.is_visible() and "Answer: Wanzhou, 2024 target" in direct.inner_text() and "16%" in direct.inner_text()
    assert direct.locator("b").all_inner_texts() == ["16%"]  # only the asked figure stands out
    first = answer.locator(".qa-cite").first
    assert "万州区" in first.locator(".qa-cite-head").inner_text()
    assert first.locator(".qa-sentence mark b", has_text="16%").first.is_visible()
    assert "Show the full passage" in first.locator("summary").inner_text()
    page.screenshot(path=str(ARTIFACTS / "answer.png"))


def test_followup_changes_district_and_keeps_indicator(page):
    ask(page, "万州区2023年地区生产总值是多少？")
    answer, _ = ask(page, "那璧山区呢？")
    assert "璧山区2023年地区生产总值是多少" in answer.locator(".qa-understood").inner_text()
    assert "璧山区" in answer.locator(".qa-cite-head").first.inner_text()
    assert "983" in answer.inner_text()


def test_upload_a_report_then_find_it(page, tmp_path):
    report = tmp_path / "潼南区2024.txt"
    report.write_text(
        "2024年重庆市潼南区政府工作报告\n各位代表：\n一、2023年工作回顾\n地区生产总值增长6.1%，柠檬产业综合产值突破200亿元。\n"
        "二、2024年工作安排\n全区规上工业增加值增长13.5%，力争新建柠檬精深加工项目3个。\n",
        encoding="utf-8",
    )
    upload(page, report)
    assert "潼南区2024.txt" in page.locator("#upload-status").inner_text()
    assert "潼南区" in page.locator("#reports").inner_text()
    answer, _ = ask(page, "潼南区2024年规上工业增加值增长多少？")
    assert "潼南区" in answer.locator(".qa-cite-head").first.inner_text()
    assert "13.5%" in answer.inner_text()
    page.screenshot(path=str(ARTIFACTS / "upload.png"))


def test_a_bad_upload_is_refused_and_the_index_kept(page, tmp_path):
    bad = tmp_path / "坏.txt"
    bad.write_bytes(b"\x00\x01" * 100)
    page.get_by_text("Add reports / 添加报告").click()
    page.set_input_files("#upload input[type=file]", str(bad))
    page.locator("#add-reports").click()
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('Not added')", timeout=60_000)
    assert "binary" in page.locator("#upload-status").inner_text()
    answer, _ = ask(page, "哪个区提出规上工业增加值增长16%？")
    assert "万州区" in answer.locator(".qa-direct").inner_text()


def test_ask_endpoint_with_gradio_client(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    result = client.predict("哪个区提出规上工业增加值增长16%？", 3, ["万州区"], api_name="/ask")
    assert set(result) == {"question", "hits", "answer", "note", "table"}
    assert result["answer"]["district"] == "万州区" and result["answer"]["abstain"] is False
    assert len(result["hits"]) == 3 and {h["district"] for h in result["hits"]} == {"万州区"}
    for hit in result["hits"]:
        assert {"rank", "district", "source", "section", "text", "start", "end", "score"} <= set(hit)


def test_the_question_is_shown_as_text_not_html(page):
    ask(page, "<b>粗体</b><img src=x> 万州区2023年地区生产总值是多少？")
    user = page.locator("#chat .message.user, #chat [data-testid='user']").last
    assert "<b>粗体</b>" in user.inner_text()
    assert page.locator("#chat b", has_text="粗体").count() == 0 and page.locator("#chat img[src=x]").count() == 0


def test_a_build_made_elsewhere_reaches_new_and_open_pages(server, page, settings):
    """A `qa index` run beside the app (here: build_index in this process) shows up in the report
    list and the district filter of a page already open (after its next question) and of a new one."""
    (settings.reports_dir / "潼南区2024.txt").write_text(
        "2024年重庆市潼南区政府工作报告\n各位代表：\n一、2023年工作回顾\n地区生产总值增长6.1%。\n"
        "二、2024年工作安排\n全区规上工业增加值增长13.5%。\n", encoding="utf-8")
    build_index(settings)
    ask(page, "潼南区2024年规上工业增加值增长多少？")
    page.wait_for_function("document.querySelector('#reports').innerText.includes('潼南区')", timeout=30_000)
    assert "潼南区" in page.locator("#districts").inner_text()
    fresh = page.context.browser.new_page()
    fresh.goto(server)
    fresh.wait_for_function("document.querySelector('#reports') && "
                            "document.querySelector('#reports').innerText.includes('潼南区')", timeout=30_000)
    assert "潼南区" in fresh.locator("#districts").inner_text()


def test_ask_endpoint_bounds_k_and_names_unknown_places(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    for k in (-1, 0, 51, 10**9):
        with pytest.raises(Exception, match="k must be"):
            client.predict("万州区2023年地区生产总值", k, [], api_name="/ask")
    with pytest.raises(Exception, match="Unknown place"):
        client.predict("地区生产总值", 3, ["火星区"], api_name="/ask")
    result = client.predict("浦东新区2023年GDP是多少？", 3, [], api_name="/ask")
    assert result["answer"]["abstain"] is True and "浦东新区" in result["note"] and "万州区" in result["note"]


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_comparison_table_and_chart_at_desktop_and_phone_width(server, width, height):
    with browser_page(server, width=width, height=height) as page:
        answer, _ = ask(page, "各区2024年规上工业增加值增长目标分别是多少？")
        table = answer.locator(".qa-table table")
        assert table.is_visible()
        rows = table.locator("tbody tr")
        assert rows.count() == 4  # every indexed place, none skipped
        assert "16%" in table.inner_text() and "万州区" in table.inner_text()
        bars = answer.locator(".qa-bar")
        assert bars.count() >= 2 and bars.first.bounding_box()["width"] > 0  # the chart is drawn
        assert answer.locator(".qa-missing").count() >= 1  # a place whose report does not state it
        box = table.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1  # fits the screen
        page.screenshot(path=str(ARTIFACTS / f"comparison-{width}.png"))


def test_an_example_is_sent_on_click_and_the_answer_scrolled_to(page):
    page.get_by_text("哪个区提出规上工业增加值增长16%？").first.click()
    page.wait_for_function("document.querySelectorAll('#chat .qa-answer').length > 0", timeout=60_000)
    answer = page.locator("#chat .qa-answer").last
    direct = answer.locator(".qa-direct").first
    direct.wait_for(state="visible")
    page.wait_for_timeout(800)  # the smooth scroll
    chat_box = page.locator("#chat").bounding_box()
    top = direct.bounding_box()["y"]
    assert chat_box["y"] - 5 <= top <= chat_box["y"] + chat_box["height"] / 2  # its first line, not the last citation


def test_phone_layout_keeps_the_question_box_in_view(server):
    with browser_page(server, width=390, height=844) as page:
        box = page.locator("#question textarea").bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= 844  # above the fold, no scrolling
        ask(page, "万州区2023年地区生产总值是多少？")
        page.screenshot(path=str(ARTIFACTS / "phone.png"))


def test_copy_gives_plain_text(page):
    # What the button hands to the clipboard (headless Chromium cannot read its clipboard back).
    page.evaluate("navigator.clipboard.writeText = t => { window.copied = t; return Promise.resolve(); }")
    answer, _ = ask(page, "万州区2023年地区生产总值是多少？")
    answer.locator(".qa-copy").first.click()
    page.wait_for_function("document.querySelector('#chat .qa-copy').textContent === '✓'", timeout=10_000)
    copied = page.evaluate("window.copied")
    assert copied.startswith("“") and "万州区" in copied and "万州区-节选.txt:" in copied and "<" not in copied


def test_a_citation_opens_its_report_at_the_sentence_with_the_original_wording(page):
    answer, _ = ask(page, "萬州區2024年規上工業增加值增長目標是多少？")
    link = answer.locator(".qa-cite a.qa-src").first
    with page.context.expect_page() as opened:
        link.click()
    source = opened.value
    source.wait_for_load_state()
    cited = source.locator("mark#cited")
    assert "16%" in cited.inner_text()
    box = cited.bounding_box()
    assert 0 <= box["y"] <= source.viewport_size["height"]  # scrolled to
    assert "原文" in source.content() and "万州区-节选.txt" in source.content()
    source.screenshot(path=str(ARTIFACTS / "source.png"))


def test_clear_forgets_the_follow_up_memory(page):
    ask(page, "万州区2023年地区生产总值是多少？")
    page.locator("#chat button[aria-label='Clear']").first.click()
    page.wait_for_function("document.querySelectorAll('#chat .qa-answer').length === 0", timeout=10_000)
    answer, _ = ask(page, "那璧山区呢？")
    assert answer.locator(".qa-understood").count() == 0  # not read as a follow-up of the cleared question
