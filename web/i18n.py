"""Interface text in Chinese and English, chosen from Accept-Language or ?lang=."""

from __future__ import annotations

from flask import request

LANGS = ("zh", "en")

TEXT = {
    "site": {"en": "Digest Search", "zh": "摘要搜索"},
    "tagline": {
        "en": "Bilingual news digests, searched in Chinese or English",
        "zh": "中英双语新闻摘要，中文英文都能搜",
    },
    "search": {"en": "Search", "zh": "搜索"},
    "placeholder": {
        "en": 'Search digests… e.g. 美联储 降息 or "rate cut"',
        "zh": '搜索摘要……例如 美联储 降息 或 "rate cut"',
    },
    "results": {"en": "{n} results", "zh": "共 {n} 条结果"},
    "result_one": {"en": "1 result", "zh": "共 1 条结果"},
    "took": {"en": "in {ms} ms", "zh": "用时 {ms} 毫秒"},
    "sort": {"en": "Sort", "zh": "排序"},
    "relevance": {"en": "Best match", "zh": "相关度"},
    "newest": {"en": "Newest", "zh": "最新"},
    "oldest": {"en": "Oldest", "zh": "最早"},
    "tags": {"en": "Tags", "zh": "标签"},
    "author": {"en": "Source", "zh": "来源"},
    "date": {"en": "Date", "zh": "日期"},
    "from": {"en": "From", "zh": "从"},
    "to": {"en": "To", "zh": "到"},
    "apply": {"en": "Apply", "zh": "应用"},
    "last7": {"en": "Last 7 days", "zh": "最近 7 天"},
    "last30": {"en": "Last 30 days", "zh": "最近 30 天"},
    "lastyear": {"en": "Last year", "zh": "最近一年"},
    "filters": {"en": "Filters", "zh": "筛选"},
    "active_filters": {"en": "Active filters", "zh": "已选条件"},
    "remove": {"en": "Remove", "zh": "移除"},
    "clear_all": {"en": "Clear all", "zh": "全部清除"},
    "prev": {"en": "Previous", "zh": "上一页"},
    "next": {"en": "Next", "zh": "下一页"},
    "page_of": {"en": "Page {p} of {n}", "zh": "第 {p} / {n} 页"},
    "pagination": {"en": "Pages", "zh": "分页"},
    "source": {"en": "Original", "zh": "原文"},
    "read": {"en": "Read digest", "zh": "阅读摘要"},
    "other_lang_en": {"en": "English summary", "zh": "英文摘要"},
    "other_lang_zh": {"en": "Chinese summary", "zh": "中文摘要"},
    "no_results": {"en": "No digest matches “{q}”.", "zh": "没有找到与“{q}”匹配的摘要。"},
    "no_results_tips": {
        "en": "Try fewer words, another spelling, or remove a filter.",
        "zh": "试试减少关键词、换个写法，或移除筛选条件。",
    },
    "did_you_mean": {"en": "Did you mean", "zh": "您是不是要找"},
    "truncated": {
        "en": "This document is long; showing the first {shown} of {total} characters.",
        "zh": "此文档较长；只显示前 {shown} 个字符（共 {total} 个）。",
    },
    "relaxed": {
        "en": "No digest contains all of your words; showing those that match some of them.",
        "zh": "没有摘要同时包含所有关键词；以下结果只匹配其中一部分。",
    },
    "no_results_filters": {
        "en": "No digest matches these filters.",
        "zh": "没有符合这些筛选条件的摘要。",
    },
    "remove_filters": {"en": "Search without filters", "zh": "去掉筛选再搜"},
    "parts": {"en": "Language versions", "zh": "语言版本"},
    "help": {"en": "How to search", "zh": "搜索语法"},
    "browse": {"en": "Latest digests", "zh": "最新摘要"},
    "documents": {"en": "{n} digests indexed", "zh": "已收录 {n} 篇摘要"},
    "json": {"en": "This search as JSON", "zh": "以 JSON 查看此搜索"},
    "subscribe": {"en": "Subscribe", "zh": "订阅"},
    "subscribe_title": {
        "en": "Atom feed of this search, newest first",
        "zh": "此搜索的 Atom 订阅源，最新的在前",
    },
    "back": {"en": "Back to results", "zh": "返回搜索结果"},
    "chinese": {"en": "Chinese", "zh": "中文"},
    "english": {"en": "English", "zh": "English"},
    "fields": {"en": "Other fields", "zh": "其他字段"},
    "related": {"en": "Related", "zh": "相关报道"},
    "same_story": {"en": "same story", "zh": "同一报道"},
    "category": {"en": "Category", "zh": "分类"},
    "not_found": {"en": "Not found", "zh": "未找到"},
    "error": {"en": "Something is wrong with this request", "zh": "请求有误"},
    "home": {"en": "Home", "zh": "首页"},
    "switch_lang": {"en": "中文", "zh": "English"},
    "skip": {"en": "Skip to results", "zh": "跳到结果"},
    "skip_content": {"en": "Skip to content", "zh": "跳到正文"},
    "no_date": {"en": "no date", "zh": "无日期"},
    "months": {"en": "Digests per month", "zh": "每月摘要数"},
}

HELP = {
    "en": [
        ("美联储 降息", "all words must match (Chinese is split into words for you)"),
        ("rate OR rates", "either word"),
        ("-crypto, NOT crypto", "leave out digests with a word"),
        ('"interest rate"', "an exact phrase"),
        ("title:AI  tag:hn  author:ft.com", "search one field"),
        ("infla*", "words starting with…"),
        ("立法會 = 立法会", "Traditional and Simplified match each other"),
    ],
    "zh": [
        ("美联储 降息", "所有词都要匹配（中文会自动分词）"),
        ("rate OR rates", "任意一个词"),
        ("-crypto、NOT crypto", "排除含有该词的摘要"),
        ('"interest rate"', "精确短语"),
        ("title:AI  tag:hn  author:ft.com", "只搜某个字段"),
        ("infla*", "以……开头的词"),
        ("立法會 = 立法会", "繁体和简体互相匹配"),
    ],
}


def current_lang() -> str:
    """Pick the interface language: ?lang=, then the cookie, then Accept-Language."""
    asked = request.args.get("lang") or request.cookies.get("lang")
    if asked in LANGS:
        return asked
    best = request.accept_languages.best_match(
        ["zh", "zh-CN", "zh-TW", "zh-HK", "en"], default="en"
    )
    return "zh" if best and best.startswith("zh") else "en"


def translate(key: str, lang: str, **kwargs) -> str:
    """Look up an interface string and fill in its placeholders."""
    entry = TEXT.get(key, {})
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**kwargs) if kwargs else text
