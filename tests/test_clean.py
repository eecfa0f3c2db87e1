from pathlib import Path

import pytest

from qa.clean import (
    clean_text,
    detect_sites,
    drop_furniture,
    drop_table_of_contents,
    furniture_kind,
    heading_label,
    join_page_markers,
    repair_garbles,
    split_run_on_lines,
    split_sentences,
    strip_mojibake,
    strip_pinyin,
    to_halfwidth,
    to_simplified,
    tidy_paragraphs,
    undo_site_replacements,
)
from qa.noise import DOCUMENT_SHARING

DATA = Path(__file__).parent / "data"


def test_pinyin_annotations_removed_with_and_without_space():
    text, n = strip_pinyin("向大會(huì )報告工作,全面發(fā)展經(jīng)濟")
    assert text == "向大會報告工作,全面發展經濟"
    assert n == 3


def test_parenthesised_chinese_and_capitals_are_not_pinyin():
    text = "地区生产总值同比(下同)增长6.6%,单位GDP(GDP)能耗"
    assert strip_pinyin(text) == (text, 0)


def test_mojibake_runs_removed():
    text, n = strip_mojibake("黨中央周?chē)谑形⑹姓蛥^委的堅強領導")
    assert text == "黨中央周委的堅強領導"
    assert n == 1
    text, n = strip_mojibake("控制在5.5%以?xún)龋瑔挝?/span>GDP能耗下降")
    assert text == "控制在5.5%以GDP能耗下降"


def test_mojibake_keeps_following_numbers():
    text, _ = strip_mojibake("空氣質量?jì)?yōu)良天數達到307天")
    assert text == "空氣質量良天數達到307天"


def test_traditional_to_simplified_counts_changes():
    text, n = to_simplified("榮昌區經濟發展")
    assert text == "荣昌区经济发展"
    assert n == 5


def test_page_markers_rejoin_cut_sentences():
    raw = "1、交出了一份难中求成、殊为\n2、不易的答卷。这一年\n3、,我们坚持\n4、稳进增效。"
    text, n = join_page_markers(raw)
    assert n == 4
    assert "殊为不易的答卷" in text
    assert "、" not in text.replace("难中求成、殊为", "")


def test_numbered_list_is_not_page_markers():
    raw = "1、抓实抓好合作共建。\n2、抓实抓好经济恢复提振。\n3、抓实抓好制造业高质量发展。"
    assert join_page_markers(raw) == (raw, 0)


def test_site_furniture_lines_dropped_by_kind():
    raw = "\n".join([
        "您当前的位置: 首页 > 政务公开 > 政府工作报告",
        "日期:2024-02-27",
        "各位代表:",
        "现在,我代表区人民政府向大会报告工作。",
        "扫一扫在手机打开当前页",
        "国务院部门网站",
        "版权所有:重庆市荣昌区人民政府",
        "A6-A7:大足“两会”特别报道总第411期 >2024-02-05编印",
    ])
    text, removed = drop_furniture(raw)
    assert text.split("\n") == ["各位代表:", "现在,我代表区人民政府向大会报告工作。"]
    assert removed == {
        "breadcrumb": 1, "byline": 1, "share prompt": 1, "link list": 1, "copyright/host": 1, "page header": 1,
    }


def test_document_site_header_and_footer_dropped():
    raw = "2024年梁平区政府工作报告.docx\n《2024年梁平区政府工作报告.docx》由会员分享,可在线阅读\n正文。\n- 配套讲稿:\n如PPT文件\n链接地址:https://x"
    text, removed = drop_furniture(raw)
    assert text == "正文。"
    assert removed["document-site header"] == 2
    assert removed["document-site footer lines"] == 3


def test_long_prose_line_mentioning_website_is_kept():
    line = "建成政务服务网站,实现“一网通办”," + "推进数字政府建设" * 10 + "。"
    assert drop_furniture(line)[0] == line


def test_single_line_report_split_into_paragraphs():
    raw = "各位代表: 现在,我代表区人民政府报告工作。 一、2023年工作回顾 刚刚过去的2023年,是开局之年。" * 20
    text, n = split_run_on_lines(raw)
    assert n > 0
    assert "一、2023年工作回顾" in text.split("\n")


def test_glued_headings_split():
    raw = ("意见。一、2023年工作回顾过去一年,发展良好。" + "这一年,我们坚持稳进增效。" * 50 + "二、2024年主要任务今年是关键一年。")
    text, _ = split_run_on_lines(raw)
    lines = text.split("\n")
    assert lines[1].startswith("一、2023年工作回顾")
    assert lines[-1].startswith("二、2024年主要任务")


def test_garbles_repaired():
    text, n = repair_garbles("存贷款余额增长9.6%o全区产业向好,同比增长1下同)3%,增长2%（下同）")
    assert text == "存贷款余额增长9.6%。全区产业向好,同比增长1（下同）3%,增长2%（下同）"
    assert n == 2


def test_halfwidth():
    assert to_halfwidth("增长１６％，ＧＤＰ") == "增长16%，GDP"


def test_clean_text_full_pipeline_on_traditional_fixture(reports):
    raw = (reports / "荣昌区-繁体.txt").read_text(encoding="utf-8")
    text, stats = clean_text(raw)
    assert "(huì" not in text and "?" not in text
    assert "各位代表" in text and "现在,我代表区人民政府" in text
    assert "版权所有" not in text and "网站" not in text.split("\n")[-1]
    assert stats["pinyin annotations"] > 10
    assert stats["mojibake runs"] >= 1
    assert stats["traditional chars converted"] > 100


def test_heading_label():
    assert heading_label("(一)重大战略部署推进有力。以成渝地区双城经济圈建设为引领") == "(一)重大战略部署推进有力"
    assert heading_label("二、2024年工作安排") == "二、2024年工作安排"


def test_split_sentences_spans_cover_text():
    text = "规上工业增加值增长16%。做强主战场；打造集群！"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["规上工业增加值增长16%。", "做强主战场；", "打造集群！"]


# --- Clean prose stays clean ------------------------------------------------------------------

def test_clean_prose_passes_unchanged():
    """Prose that mentions 技术支持, 网站, 关键词, 版权, 主办, 来源, 编辑, 目录, an unpunctuated
    target list, figure-table lines, "24小时不间断服务" and "聪明才智" comes out as it went in."""
    raw = (DATA / "clean" / "clean_prose.txt").read_text(encoding="utf-8")
    assert len(raw) > 3000 and tidy_paragraphs(raw) == raw.rstrip("\n")  # the file is already tidy
    text, removed = clean_text(raw)
    assert text == raw.rstrip("\n")
    assert removed == {}


@pytest.mark.parametrize("line", [
    "（三）强化人才和技术支持",
    "三、技术支持网站",  # a heading is never furniture, whatever it says
    "政府门户网站",
    "建成统一的政务服务网站",
    "开通“青禾发布”微信公众号",
    "加强知识产权和版权保护",
    "主办各类招商活动36场",
    "关键词是稳中求进。",
    "关键词：稳中求进",
    "来源多元的资金保障体系加快形成。",
    "编辑出版《青禾年鉴》。",
    "编制公布政务服务事项目录",
    "群众扫一扫即可办理。",
    "地区生产总值 520亿元 增长6.1%",
    "办理时间压缩至3个工作日。",
    "5A级景区创建通过景观质量评审。",
])
def test_prose_lines_with_furniture_words_are_kept(line):
    raw = f"全年地区生产总值增长6.1%。\n{line}\n城镇新增就业1.26万人。"
    assert clean_text(raw) == (raw, {})


# --- Site rules only where the site's signature is -------------------------------------------

SHARING_HEADER = "2024年青禾区政府工作报告.docx\n《2024年青禾区政府工作报告.docx》由会员分享,可在线阅读,更多相关《2024年青禾区政府工作报告.docx(29页珍藏版)》请在课桌文档上搜索。\n"
SPUN = "政务服务一直不间断优化,24小时不间断服务,凝聚聪明才智。\n"


def test_document_site_signature_needs_more_than_one_cue():
    assert detect_sites(SHARING_HEADER + SPUN) == (DOCUMENT_SHARING,)
    assert detect_sites("附件：2024年青禾区政府工作报告.docx\n" + SPUN) == ()  # a file name alone
    assert detect_sites("报告全文可在线阅读。\n" + SPUN) == ()


def test_spinner_synonyms_reversed_only_on_the_document_site():
    text, removed = clean_text(SHARING_HEADER + SPUN)
    assert text == "政务服务持续优化,24小时不断服务,凝聚智慧。"
    assert removed["site word swaps undone"] == 3 and removed["document-site header"] == 2
    text, removed = clean_text(SPUN)
    assert text == SPUN.strip() and removed == {}
    assert undo_site_replacements(SPUN, ()) == (SPUN, 0)


def test_footer_cut_only_on_the_document_site():
    body = "关键词：稳中求进\n一、2023年工作回顾\n- 配套讲稿:\n全年地区生产总值增长6.1%。"
    assert clean_text(body) == (body, {})  # no signature: nothing after 关键词 is lost
    text, removed = clean_text(SHARING_HEADER + "正文。\n- 关 键 词:\n- 2024 青禾 区政府 工作报告\n链接地址:https://x")
    assert text == "正文。" and removed["document-site footer lines"] == 3


def test_bundled_document_site_fixture_still_cleaned(reports):
    raw = (reports / "梁平区-gbk.txt").read_bytes().decode("gb18030")
    text, removed = clean_text(raw)
    assert "殊为不易的答卷" in text and ".docx" not in text and "配套讲稿" not in text
    assert removed["page markers"] == 4 and removed["site word swaps undone"] > 0
    assert "不间断" not in text


# --- Page markers vs numbered lists -----------------------------------------------------------

def test_unpunctuated_target_list_is_not_page_markers():
    raw = "主要预期目标是:\n1、地区生产总值增长6%左右\n2、规上工业增加值增长8%\n3、固定资产投资增长5%\n4、一般公共预算收入增长5.5%"
    assert join_page_markers(raw) == (raw, 0)
    assert clean_text(raw) == (raw, {})


def test_page_markers_cutting_long_pages_are_joined():
    page = "全区上下坚持稳中求进工作总基调,经济运行回升向好,各项事业取得新进展。" * 4
    raw = f"1、{page}交出了一份殊为\n2、不易的答卷。{page}产业\n3、发展势头正劲。{page}"
    text, n = join_page_markers(raw)
    assert n == 3 and "殊为不易的答卷" in text and "产业发展势头正劲" in text and text.count("\n") == 0


# --- New noise, each as whole lines or well-delimited runs ------------------------------------

BEFORE, AFTER = "全年地区生产总值增长6.1%。", "城镇新增就业1.26万人。"


@pytest.mark.parametrize("noise, kind, count", [
    ("目  录\n一、2024年工作回顾……………1\n二、2025年工作安排……………6", "table of contents", 3),
    ("目录\n一、2024年工作回顾 1\n二、2025年工作安排 6", "table of contents", 3),
    ("· 发布机构：青禾区人民政府", "metadata", 1),
    ("| 索引号 | 1144… |", "metadata", 1),
    ("| 索引号 | 11330100MB0000000X/2024-00008 | 发布机构 | 青禾区人民政府 |", "metadata", 1),
    ("索引号：… 发布机构：…", "metadata", 1),
    ("索引号11330100MB0000000X/2024-00008发布机构青禾区人民政府办公室", "metadata", 1),
    ("发文字号：青政发〔2024〕1号 成文日期：2024-01-18 生效日期：2024-01-20", "metadata", 1),
    ("索引号：\n11330100MB0000000X/2024-00008", "metadata", 2),
    ("导航菜单", "navigation", 1),
    ("首页 | 政务公开 | 政务服务 | 互动交流", "navigation", 1),
    ("您好，欢迎访问青禾区人民政府门户网站！ 无障碍 | 繁體 | English", "navigation", 1),
    ("当前位置：首页 > 政务公开 > 政府工作报告", "breadcrumb", 1),
    ("版次：03  青禾日报  2024年1月18日", "page header", 1),
    ("第03版", "page header", 1),
    ("（上接第二版）", "page header", 1),
    ("（下转第四版）", "page header", 1),
    ("A03版：要闻", "page header", 1),
    ("A6-A7:青禾“两会”特别报道总第411期 >2024-02-05编印", "page header", 1),
    ("字号：大 中 小", "print controls", 1),
    ("【打印】【关闭】", "print controls", 1),
    ("发布时间：2024-01-18 来源：青禾区人民政府办公室 字号：大 中 小 【打印】【关闭】 浏览次数：1523", "byline", 1),
    ("第 3 页 共 9 页", "page footer", 1),
    ("- 3 -", "page footer", 1),
    ("技术支持：青禾数码科技有限公司", "copyright/host", 1),
    ("主办单位：青禾区人民政府办公室", "copyright/host", 1),
    ("版权所有 © 2024 青禾区人民政府", "copyright/host", 1),
    ("浙ICP备05000000号-1  浙公网安备 33010002000000号", "copyright/host", 1),
    ("国务院部门网站 地方政府网站 其他网站", "link list", 1),
    ("相关链接\n青禾区2023年政府工作报告\n规划计划", "link list", 3),
    ("青禾区2024年政府工作报告_政府工作报告_青禾区人民政府门户网站", "page title", 1),
    ("（本报记者 白雅琴 整理）", "byline", 1),
])
def test_noise_lines_removed_by_kind(noise, kind, count):
    text, removed = clean_text(f"{BEFORE}\n{noise}\n{AFTER}")
    assert text == f"{BEFORE}\n{AFTER}"
    assert removed == {kind: count}


def test_lone_site_name_is_a_fact_but_a_run_of_names_is_a_link_list():
    assert furniture_kind("国务院部门网站") is None  # alone it may be prose
    text, removed = drop_furniture(f"{BEFORE}\n国务院部门网站\n地方政府网站\n{AFTER}")
    assert text == f"{BEFORE}\n{AFTER}" and removed == {"link list": 2}


def test_continuation_note_removed_from_the_end_of_a_paragraph():
    text, removed = clean_text("加快建设现代化产业体系。（下转第四版）\n（上接第三版）新建5G基站620个。")
    assert text == "加快建设现代化产业体系。\n新建5G基站620个。"
    assert removed == {"page header": 2}


def test_table_of_contents_needs_entries():
    assert drop_table_of_contents("目录\n各位代表:") == ("目录\n各位代表:", 0)


@pytest.mark.parametrize("garbage", ["锟斤拷", "鏀垮簻", "Ã¦Â", "æ”¿åºœ", "\ufffd\ufffd"])
def test_mojibake_run_removed_from_title_line(garbage):
    text, removed = clean_text(f"2024年青禾区政府工作报告{garbage}\n{BEFORE}")
    assert text == f"2024年青禾区政府工作报告\n{BEFORE}"
    assert removed == {"mojibake runs": 1}


def test_noisy_page_fixture_cleaned_to_its_report():
    """A composite scraped page: browser title, menus, metadata table, byline with controls, table
    of contents, newspaper and PDF page furniture, a garbled title and a gov-site footer."""
    raw = (DATA / "clean" / "noisy_page.txt").read_text(encoding="utf-8")
    expected = (DATA / "clean" / "noisy_page.expected.txt").read_text(encoding="utf-8").rstrip("\n")
    text, removed = clean_text(raw)
    assert text == expected
    assert set(removed) == {
        "page title", "navigation", "breadcrumb", "metadata", "stray mark", "byline", "print controls",
        "table of contents", "page header", "page footer", "share prompt", "link list", "copyright/host",
        "mojibake runs",
    }
