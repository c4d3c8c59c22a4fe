"""The index's snippets and the document page split a body into languages the same way."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from searchengine.text import language_blocks, split_parts
from web.markdown import language_sections

ZH = ["美联储宣布降息。", "香港立法會今日開會。", "开源模型发布新版本。"]
EN = ["The central bank cut rates.", "A new open model was released.", "Markets rose on Friday."]
MARKUP = ["---", "[原文链接](https://example.com/a)", "<!-- a note\n\nthat spans blocks -->", ""]


def _plain(section_html: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section_html)).split())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(ZH),
            st.sampled_from(EN),
            st.sampled_from(ZH).map(lambda s: "## " + s),
            st.sampled_from(MARKUP),
        ),
        min_size=1,
        max_size=10,
    ),
    st.sampled_from(["\n\n", "\n\n\n", "\n"]),
)
def test_every_sentence_shows_on_the_page_in_the_part_its_snippet_comes_from(blocks, sep):
    body = sep.join(blocks)
    parts = split_parts(body)
    sections = dict(language_sections(body))
    for lang, part in (("zh", parts.zh), ("en", parts.en)):
        shown = _plain(sections.get(lang, ""))
        for sentence in ZH + EN:
            if sentence in part:
                assert sentence in shown, (lang, sentence, body)
    assert "that spans blocks" not in parts.zh + parts.en
    assert not any("that spans blocks" in _plain(h) for h in sections.values())


def test_a_heading_after_a_blank_line_is_its_own_block():
    body = "开头一段。\n\n## 第二段的标题\n\nThe English part."
    assert [(b.lang, b.text) for b in language_blocks(body)] == [
        ("zh", "开头一段。"),
        ("zh", "第二段的标题"),
        ("en", "The English part."),
    ]
