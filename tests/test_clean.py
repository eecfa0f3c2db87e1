from qa.clean import (
    clean_text,
    drop_furniture,
    heading_label,
    join_page_markers,
    repair_garbles,
    split_run_on_lines,
    split_sentences,
    strip_mojibake,
    strip_pinyin,
    to_halfwidth,
    to_simplified,
)


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
    assert removed == {"breadcrumb": 1, "byline": 1, "share prompt": 1, "link list": 1, "copyright/host": 1, "page header": 1}


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
    text, n = repair_garbles("存贷款余额增长9.6%o全区产业一直不间断向好,聪明才智公交,同比增长1下同)3%")
    assert text == "存贷款余额增长9.6%。全区产业持续向好,智慧公交,同比增长1（下同）3%"
    assert n == 4


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
