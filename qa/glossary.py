"""Domain vocabulary: district names (Chinese, Traditional, pinyin) and English→Chinese report terms.

Both lists are real-world vocabulary, not tuned to any question: the gazetteer is Chongqing's 38
districts and counties, and the term list holds the standard indicators of Chinese government
work reports with their usual English renderings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Chongqing's districts and counties with their romanised names.
CHONGQING = {
    "万州区": "Wanzhou", "黔江区": "Qianjiang", "涪陵区": "Fuling", "渝中区": "Yuzhong",
    "大渡口区": "Dadukou", "江北区": "Jiangbei", "沙坪坝区": "Shapingba", "九龙坡区": "Jiulongpo",
    "南岸区": "Nan'an", "北碚区": "Beibei", "綦江区": "Qijiang", "大足区": "Dazu", "渝北区": "Yubei",
    "巴南区": "Banan", "长寿区": "Changshou", "江津区": "Jiangjin", "合川区": "Hechuan",
    "永川区": "Yongchuan", "南川区": "Nanchuan", "璧山区": "Bishan", "铜梁区": "Tongliang",
    "潼南区": "Tongnan", "荣昌区": "Rongchang", "开州区": "Kaizhou", "梁平区": "Liangping",
    "武隆区": "Wulong", "城口县": "Chengkou", "丰都县": "Fengdu", "垫江县": "Dianjiang",
    "忠县": "Zhongxian", "云阳县": "Yunyang", "奉节县": "Fengjie", "巫山县": "Wushan",
    "巫溪县": "Wuxi", "石柱土家族自治县": "Shizhu", "秀山土家族苗族自治县": "Xiushan",
    "酉阳土家族苗族自治县": "Youyang", "彭水苗族土家族自治县": "Pengshui",
}

# English report vocabulary → the Chinese wording the reports use. Longest phrases first at
# match time, so "industrial added value" wins over "industrial".
EN_TERMS = {
    "gdp": "地区生产总值",
    "gross domestic product": "地区生产总值",
    "regional gdp": "地区生产总值",
    "economic output": "地区生产总值",
    "economy": "经济 地区生产总值",
    "economic growth": "地区生产总值 增长",
    "industrial added value": "规上工业增加值",
    "industrial value added": "规上工业增加值",
    "value added of industry": "规上工业增加值",
    "industrial output": "规上工业总产值 工业产值",
    "industrial growth": "规上工业增加值 增长",
    "industry": "工业 产业",
    "industrial": "工业",
    "above designated size": "规模以上",
    "above-scale": "规上",
    "manufacturing": "制造业",
    "fixed asset investment": "固定资产投资",
    "fixed-asset investment": "固定资产投资",
    "investment": "投资",
    "retail sales": "社会消费品零售总额",
    "consumer goods": "社会消费品零售总额",
    "consumption": "消费",
    "general public budget revenue": "一般公共预算收入",
    "public budget revenue": "一般公共预算收入",
    "budget revenue": "一般公共预算收入",
    "fiscal revenue": "一般公共预算收入 财政收入",
    "revenue": "收入",
    "tax revenue": "税收收入",
    "tax": "税收",
    "disposable income": "居民人均可支配收入",
    "per capita": "人均",
    "income": "收入",
    "urban residents": "城镇居民",
    "rural residents": "农村居民",
    "residents": "居民",
    "unemployment rate": "城镇调查失业率 失业率",
    "unemployment": "失业率",
    "new urban jobs": "城镇新增就业",
    "jobs": "就业",
    "employment": "就业",
    "energy consumption": "能耗",
    "energy": "能源",
    "air quality": "空气质量优良天数",
    "good air": "空气质量优良天数",
    "days": "天数",
    "water quality": "水质",
    "forest coverage": "森林覆盖率",
    "target": "目标 预期目标",
    "targets": "目标 预期目标",
    "goal": "目标",
    "expected": "预期",
    "growth": "增长",
    "grow": "增长",
    "increase": "增长 增加",
    "decrease": "下降",
    "reduce": "下降",
    "billion yuan": "亿元",
    "yuan": "元",
    "enterprises": "企业",
    "companies": "企业",
    "firms": "企业",
    "high-tech": "高新技术",
    "high tech": "高新技术",
    "tourism": "旅游",
    "tourists": "游客",
    "visitors": "游客",
    "agriculture": "农业",
    "grain": "粮食",
    "rural revitalization": "乡村振兴",
    "villages": "村",
    "schools": "学校",
    "education": "教育",
    "hospital": "医院",
    "health": "卫生 健康",
    "medical": "医疗",
    "elderly": "养老",
    "pension": "养老保险",
    "insurance": "保险",
    "housing": "住房",
    "roads": "公路",
    "highway": "高速公路",
    "railway": "铁路",
    "airport": "机场",
    "port": "港",
    "logistics": "物流",
    "foreign trade": "外贸 进出口",
    "imports and exports": "进出口",
    "exports": "出口",
    "foreign investment": "外资",
    "investment attraction": "招商引资",
    "projects": "项目",
    "park": "园区",
    "digital": "数字",
    "innovation": "创新",
    "r&d": "研发",
    "research and development": "研发",
    "patents": "专利",
    "talent": "人才",
    "green": "绿色",
    "ecology": "生态",
    "environment": "生态环境",
    "pollution": "污染",
    "carbon": "碳",
    "safety": "安全",
    "debt": "债务",
    "reform": "改革",
    "population": "人口",
    "urbanization": "城镇化率",
    "market entities": "经营主体 市场主体",
    "businesses": "经营主体 企业",
    "review": "回顾",
    "last year": "2023年",
    "this year": "2024年",
    "2023": "2023年",
    "2024": "2024年",
    "district": "区",
    "county": "县",
}


@dataclass(frozen=True)
class Place:
    name: str  # 万州区
    short: str  # 万州
    english: str  # Wanzhou


def short_name(name: str) -> str:
    """万州区 → 万州; 石柱土家族自治县 → 石柱; 忠县 stays 忠县 (a one-character stem is ambiguous)."""
    stem = re.sub(r"(土家族|苗族|自治)+", "", name)
    stem = re.sub(r"[区县市]$", "", stem)
    return stem if len(stem) >= 2 else name


def romanize(name: str) -> str:
    """English name of a place: from the gazetteer, else pinyin of its short name."""
    if name in CHONGQING:
        return CHONGQING[name]
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(short_name(name))).capitalize()


@lru_cache(maxsize=1)
def gazetteer() -> tuple[Place, ...]:
    return tuple(Place(name, short_name(name), english) for name, english in CHONGQING.items())


def place(name: str) -> Place:
    return Place(name, short_name(name), romanize(name))
