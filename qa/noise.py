"""What scraped report text carries besides the report: the pattern tables `qa.clean` applies.

Data, not code. Every line pattern is matched against a WHOLE line (`fullmatch`, after the line is
stripped), and every inline pattern against a well-delimited run, so a prose line that merely
mentions a furniture word ("（三）强化人才和技术支持", "建成统一的政务服务网站", "关键词是稳中求进。")
never matches. Rules seen on one site only live in a `Site` and run only where that site's
signature is found in the document's first lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CJK = "\u3400-\u9fff\uf900-\ufaff"
CN_NUM = "一二三四五六七八九十"
# Sentence punctuation: a field value, a link name or a menu item never holds one; prose does.
SENTENCE_PUNCT = "。；！？!?;"

# ---------------------------------------------------------------------------------------------
# "label：value" furniture. A line is furniture when it is made only of such fields (plus the
# control tokens below), each value short and free of sentence punctuation, e.g.
# "发布时间：2024-01-18 来源：XX区政府办 字号：大 中 小 【打印】【关闭】 浏览次数：1523".
# A line that starts with prose, or whose "value" is a sentence, is kept.
FIELD_LABELS = {
    "metadata": (
        "索引号", "發布機構", "发布机构", "发文机关", "發文機關", "发文日期", "发文字号", "發文字號", "文号",
        "主题分类", "主題分類", "体裁分类", "组配分类", "服务对象分类", "信息分类", "主题词", "成文日期",
        "生效日期", "废止日期", "失效日期", "有效性", "公开方式", "公开范围", "公开时限", "所属机构", "信息名称",
    ),
    "copyright/host": (
        "版权所有", "版權所有", "主办单位", "主辦單位", "主办", "主辦", "承办单位", "承辦單位", "承办", "协办单位",
        "技术支持", "技術支持", "网站标识码", "網站標識碼", "维护单位", "运维单位", "联系电话", "联系地址",
        "地址", "邮编", "电话", "传真", "电子邮箱", "邮箱",
    ),
    "byline": (
        "日期", "发布日期", "发布时间", "發布日期", "發布時間", "时间", "時間", "来源", "來源", "信息来源", "文章来源",
        "作者", "刊发日期", "阅读次数", "浏览次数", "點擊數", "点击数", "点击量", "访问量", "访问次数", "文字整理",
        "责任编辑", "責任編輯", "美术编辑", "编辑", "編輯", "记者", "記者", "供稿", "审核", "校对",
    ),
    # Checked last: "字号：大 中 小" on a line of its own is a control, on a byline it is the byline.
    "print controls": ("字号", "字體", "字体", "语音阅读"),
}
LABELS = sorted({label for labels in FIELD_LABELS.values() for label in labels}, key=len, reverse=True)
_LABEL_ALT = "|".join(LABELS)
_METADATA_ALT = "|".join(sorted(FIELD_LABELS["metadata"], key=len, reverse=True))
FIELD_LABEL = re.compile(rf"({_LABEL_ALT})\s*[:：]")
# Values are short, hold no sentence punctuation, and take a colon only inside a time ("10:30").
FIELD_LINE = re.compile(rf"(?:(?:{_LABEL_ALT})\s*[:：](?:[^:：{SENTENCE_PUNCT}]|(?<=\d)[:：](?=\d)){{0,40}}?\s*)+")
# "索引号：" alone on its line: its value is on the next one.
BARE_METADATA_LABEL = re.compile(rf"(?:{_METADATA_ALT})\s*[:：]?")
# Table cells glued without a colon: "索引号1144…/2024-00012发布机构XX区人民政府办公室".
GLUED_METADATA_LABEL = re.compile(rf"({_METADATA_ALT})(?!\s*[:：])")
BULLET = re.compile(r"^[·•●○◆◇■□▪►\-*]\s*")

# Page controls that sit on a byline line or on a line of their own.
_CONTROL_WORDS = "打印本页|打印此页|打印|关闭窗口|关闭|加入收藏|收藏本页|收藏|返回顶部|返回|语音阅读|语音播报|我要纠错|纠错|分享|大|中|小|默认"
CONTROL_TOKENS = re.compile(
    rf"[【\[［]\s*(?:{_CONTROL_WORDS})\s*[】\]］]"
    r"|(?:打印本页|打印此页|关闭窗口|加入收藏|收藏本页|返回顶部|语音阅读|语音播报|我要纠错)\s*[:：]?"
)
# Registration numbers in a site footer: "渝ICP备05003300号-1", "渝公网安备 50022602000001号".
HOST_TOKENS = re.compile(rf"[{CJK}]{{0,2}}(?:ICP[备備证證]|公网安备|公網安備)\s*[\dA-Za-z\-]*\s*号?(?:-\d+)?")

# Furniture lines are short: a line longer than this is prose whatever it contains.
MAX_FURNITURE_LEN = 120

# ---------------------------------------------------------------------------------------------
# Whole-line furniture: kind -> patterns matched against the stripped line.
_DATE = r"\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?"
_NO_PUNCT = rf"[^{SENTENCE_PUNCT}，,]"
LINE_NOISE: dict[str, tuple[re.Pattern, ...]] = {
    "breadcrumb": (
        # "您当前的位置: 首页 > 政务公开 > 政府工作报告", "当前位置：首页 > 政务公开"
        re.compile(r"(?:您当前的位置|当前位置|您的位置|您现在的位置|您現在的位置|當前位置|您当前所在位置)\s*[:：].{0,100}"),
        re.compile(r"(?:网站)?首页(?:\s*[>›»＞→/]\s*[^\s>›»＞→/。，]{1,15}){1,6}\s*[>›»＞]?"),
    ),
    "navigation": (
        re.compile(r"(?:网站|栏目|主|顶部)?导航(?:菜单|栏)?|菜单|跳转到主要内容|无障碍(?:浏览|阅读)?"),
        re.compile(rf"(?:上一篇|下一篇|上一条|下一条)\s*[:：]{_NO_PUNCT}{{0,60}}"),
        # "您好，欢迎访问XX区人民政府门户网站！ 无障碍 | 繁體 | English"
        re.compile(r"(?:您好[，,]?\s*)?欢迎(?:访问|来到|光临)[^。！!？?]{0,40}?(?:网站|网|平台)[！!。]?"
                   r"(?:\s*[|｜]?\s*(?:无障碍|繁體|繁体|简体|English|登录|注册|长者模式|关怀版|手机版|移动版))*"),
    ),
    # A browser title kept by the scraper: "XX区2024年政府工作报告_政府工作报告_XX区人民政府门户网站".
    "page title": (
        re.compile(r"[^_|｜\s]{2,60}(?:\s*[_|｜]\s*[^_|｜]{1,30}){0,3}\s*[_|｜]\s*[^_|｜\s]{2,30}(?:网站|门户|政府网)"),
    ),
    "share prompt": (
        re.compile(r"(?:扫一扫|掃一掃)\s*(?:在|用)?(?:手机|手機)?(?:上)?(?:打开|打開|浏览|瀏覽|阅读|閱讀|查看)?"
                   r"(?:当前页|當前頁|本页|本頁|此页)?"),
        re.compile(rf"分享到\s*[:：]?{_NO_PUNCT}{{0,30}}"),
    ),
    "copyright/host": (
        # "版权所有 © 2024 XX区人民政府", "Copyright © 2024 … All Rights Reserved"; not "版权所有者…"
        re.compile(rf"{_NO_PUNCT}{{0,40}}(?:版权所有|版權所有)(?![者人权權]){_NO_PUNCT}{{0,60}}"),
        re.compile(rf"(?:Copyright|COPYRIGHT|©|\([Cc]\)){_NO_PUNCT}{{0,80}}"),
    ),
    # Newspaper page headers: "A6-A7:大足“两会”特别报道总第411期 >2024-02-05编印",
    # "版次：03  XX日报  2024年1月18日", "第03版", "A03版：要闻", "2024年1月18日 星期四".
    "page header": (
        re.compile(rf"[A-Z]\d{{1,2}}(?:\s*[-—~]\s*[A-Z]?\d{{1,2}})?\s*版?\s*[:：]{_NO_PUNCT}{{0,50}}?"
                   rf"(?:编印|第\s*\d+\s*期|{_DATE}){_NO_PUNCT}{{0,20}}"),
        re.compile(rf"[A-Z]?\d{{1,3}}\s*版\s*[:：]\s*{_NO_PUNCT}{{1,20}}"),
        re.compile(rf"第\s*[A-Z]?\d{{1,3}}\s*版(?:\s*[:：]\s*{_NO_PUNCT}{{0,20}})?"),
        re.compile(rf"版次\s*[:：]{_NO_PUNCT}{{0,50}}"),
        # a dateline: date and weekday, at most a paper's name or 农历 beside them; no prose
        re.compile(rf"(?:{_NO_PUNCT}{{0,12}}(?:日报|晚报|报)\s*)?{_DATE}\s*(?:星期|周)[一二三四五六日天]"
                   rf"(?:\s*(?:农历{_NO_PUNCT}{{0,10}}|{_NO_PUNCT}{{0,12}}(?:日报|晚报|报)|[A-Z]?\d{{1,3}}\s*版?))*"),
    ),
    # PDF page footers: "第 3 页 共 9 页", "- 3 -", "— 3 —", "3/9", "Page 3 of 9".
    "page footer": (
        re.compile(r"第\s*\d{1,4}\s*页\s*[,，/]?\s*(?:共\s*\d{1,4}\s*页)?|共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页"),
        re.compile(r"[-—–]\s*\d{1,4}\s*[-—–]|\d{1,4}\s*/\s*\d{1,4}|[Pp]age\s*\d{1,4}(?:\s*of\s*\d{1,4})?"),
    ),
    # A reporter's credit closing a newspaper digest: "（本报记者 白雅琴 整理）".
    "byline": (re.compile(r"[(（]\s*(?:本报记者|记者|本报通讯员|通讯员)[^()（）。]{1,30}[)）]"),),
    "url": (re.compile(r"(?:链接地址|原文链接|网址|網址)?\s*[:：]?\s*https?://\S+"),),
    "stray mark": (re.compile(r"[\s?？|｜·•\-—_=*#:]*"),),
}

# A single site or app name ("国务院部门网站", "微信公众号"): furniture only in a list of such
# names (two or more on a line, or next to another furniture line), never alone among prose,
# where "政府门户网站" is a fact.
LINK_NAME = re.compile(
    r"[^\s，。；：！？、]{0,12}?(?:网站|網站|微信公众号|微信公眾號|公众号|公眾號|政务微博|政務微博|微博|"
    r"客户端|客戶端|APP|App|小程序|抖音号|视频号|头条号)"
)
# What separates the items of a link list or a menu on one line.
LIST_SEPARATORS = re.compile(r"\s*[|｜丨·/]\s*|\s+")

# "相关链接" opens a block of link titles: it and the short lines after it go.
RELATED_LINKS_HEADER = re.compile(r"相关(?:链接|阅读|文章|新闻|文件|稿件)|推荐阅读|延伸阅读|热点推荐|更多(?:阅读|新闻)")

# Menu lines: "首页 | 政务公开 | 政务服务 | 互动交流". Items are short and most are menu words.
NAV_WORDS = frozenset(
    "首页 网站首页 政务公开 信息公开 政府信息公开 政务服务 办事服务 网上办事 互动交流 政民互动 新闻中心 新闻动态 要闻动态 "
    "走进 概况 专题专栏 数据开放 公共服务 网站地图 联系我们 关于我们 网站声明 隐私声明 隐私政策 无障碍 English 繁体 简体 "
    "繁體 登录 注册 个人中心 智能问答 长者模式 关怀版 移动版 手机版 投诉建议 领导信箱 政策文件 政策解读 机构职能".split()
)

# Inline noise: well-delimited runs removed wherever they stand. kind -> patterns.
# Latin-1 plus the characters cp1252 puts at 0x80–0x9F.
_LATIN1 = (
    "\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e"
    "\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
INLINE_NOISE: dict[str, tuple[re.Pattern, ...]] = {
    # "（上接第二版）" / "（下转第四版）": a newspaper continuation note, often at a paragraph's end.
    "page header": (
        re.compile(rf"[(（]\s*(?:上接|下转|接上|转下|紧接|上轉|下轉)\s*第?\s*(?:[A-Z]?\d{{1,2}}|[{CN_NUM}]{{1,3}})\s*版\s*[)）]"),
    ),
    "mojibake runs": (
        # U+FFFD read back as GBK ("锟斤拷"), or kept as replacement characters.
        re.compile(r"(?:锟斤拷)+锟?|\ufffd+"),
        # UTF-8 read as Latin-1/cp1252: every Han character becomes a lead in ä–é (Ã/Â when
        # encoded twice) plus two continuation characters ("æ”¿åºœ", "Ã¦Â"). A Latin letter in
        # prose (°, ×, é in a name) is never such a run of three or more.
        re.compile(rf"[ÃÂäåæçèé][{_LATIN1}]{{2,}}"),
    ),
}

# Pinyin-annotating sites: 會(huì ) / 經(jīng)濟, a syllable in parentheses right after a Han
# character. A syllable with no tone mark (neutral tone, "的(de)") counts too, but only glued
# to a Han character.
TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿê"
_PINYIN_BODY = rf"[a-z{TONE_VOWELS}]{{1,7}}"
PINYIN_ANNOTATION = re.compile(rf"(?<=[{CJK}])\(\s*({_PINYIN_BODY})\s*\)")
# Mojibake left where such a site mangled UTF-8: "?chē)" followed by a short run of wrongly
# decoded characters that ends at a stray ASCII byte ("谑形⑹姓蛥^"). A GBK reading of UTF-8
# bytes leaves such ASCII trail bytes, which never occur between Han characters in prose.
PINYIN_MOJIBAKE = re.compile(
    rf"\?{_PINYIN_BODY}\)"  # the broken annotation itself
    rf"(?:[^\s\x00-\x7f，。、；：！？“”]{{1,10}}?[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e?a-zA-Z](?=[{CJK}/<]))?"
)
HTML_RESIDUE = re.compile(r"</?[a-zA-Z]{1,10}>|/(?:span|p|div|strong|b|font)>")

# A table of contents before the title: "目  录" then "一、2024年工作回顾……………1" lines.
TOC_HEADER = re.compile(r"目\s*[录錄]|CONTENTS|Contents")
TOC_ENTRY = re.compile(r"\S.{0,60}?(?:[.．…·⋯_\-—]\s*){3,}\s*\d{1,3}")  # dot leaders + page number
TOC_ENTRY_AFTER_HEADER = re.compile(  # right after 目录 the leaders may be lost: "一、2024年工作回顾  1"
    rf"(?:[{CN_NUM}]{{1,3}}、|[(（][{CN_NUM}]{{1,3}}[)）]|第[{CN_NUM}]{{1,3}}[章部节]|附件|附表).{{1,40}}?\s+\d{{1,3}}"
)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Site:
    """Noise one kind of site adds, and the signature that says a document came from it."""

    name: str
    cues: dict[str, re.Pattern]  # searched in the document's first lines; each cue counts once
    min_cues: int
    line_noise: dict[str, tuple[re.Pattern, ...]] = field(default_factory=dict)
    footer_start: re.Pattern | None = None  # this line and everything after it are the site's
    replacements: dict[str, str] = field(default_factory=dict)  # the site's word swaps, undone
    head_lines: int = 6


DOCUMENT_SHARING = Site(
    name="document-sharing site",
    # reports/liangping-2024.txt opens with "2024年梁平区政府工作报告.docx" and
    # "《….docx》由会员分享,可在线阅读,更多相关《….docx(29页珍藏版)》请在课桌文档上搜索。"
    cues={
        "file name": re.compile(r"(?m)^.{1,100}\.(?:docx?|pdf|pptx?|wps)\s*$|《[^》]{1,100}\.(?:docx?|pdf|pptx?|wps)》"),
        "shared by a member": re.compile(r"由会员分享|由用户分享"),
        "read online": re.compile(r"可在线阅读"),
        "search prompt": re.compile(r"请在.{1,12}上搜索"),
        "page count": re.compile(r"\d+页珍藏版"),
    },
    min_cues=2,
    line_noise={
        "document-site header": (
            re.compile(r".{1,100}\.(?:docx?|pdf|pptx?|wps)"),
            re.compile(r".{0,100}(?:由会员分享|可在线阅读|请在.{1,12}上搜索).{0,100}"),
        ),
    },
    # "- 配套讲稿:", "- 特殊限制:", "- 关 键 词:" open the site's footer (then 链接地址:https://…).
    footer_start=re.compile(r"-?\s*(?:配套讲稿|特殊限制|关\s*键\s*词)\s*(?:[:：].{0,40})?"),
    # The site swaps words for odd synonyms; these are the swaps met in its exports, mapped back
    # (longest first). On any other document "24小时不间断服务" and "聪明才智" are the author's.
    replacements={
        "一直不间断": "持续",
        "不间断地去": "不断",
        "不间断": "不断",
        "聪明才智": "智慧",
        "整治管理": "治理",
    },
)

SITES: tuple[Site, ...] = (DOCUMENT_SHARING,)
