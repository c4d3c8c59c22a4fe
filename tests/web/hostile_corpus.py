"""A corpus whose every field carries markup, event handlers and script URLs."""

from __future__ import annotations

from pathlib import Path

import yaml

XSS = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"

HOSTILE_BODY = f"""[原文链接](javascript:alert('src'))

恶意正文 {XSS} 点击 [x](javascript:alert(1)) 和 {IMG} 以及 <a href="javascript:alert(2)" onclick="x()">链接</a>。
数据链接 [d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) 与 ![pic](javascript:alert(3))。
<iframe src="https://example.com/embed"></iframe><object data="x.swf"></object><embed src="x.swf">
<svg onload=alert(1)><script>alert('svg')</script></svg> <math><mi xlink:href="javascript:alert(1)">m</mi></math>
<a href="jav&#x09;ascript:alert(1)">制表符</a> <a href=" JaVaScRiPt:alert(1)">大小写</a> <scr<script>ipt>alert(1)</script>
<form action="javascript:alert(1)"><button formaction="javascript:alert(2)">按钮</button></form>
<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><base href="javascript:alert(1)//">
<style>body{{display:none}}</style><div style="background:url(javascript:alert(1))">样式</div>
<!-- <script>alert('comment')</script> --> &lt;script&gt;alert('entity')&lt;/script&gt; & < > 半个 <b>未闭合 <i>标签
"><script>alert('attr')</script> '><img src=x onerror=alert('attr2')> </textarea><script>alert(1)</script>

Hostile English part: rate cut {XSS} and [click](javascript:alert(1)) or <javascript:alert(1)> autolink.
Reference [ref][1] and ![img][2] and <img src="data:image/svg+xml;base64,PHN2Zz4=" onerror="alert(1)">.
AT&T < 5 && 6 > 3; <details open ontoggle=alert(1)>x</details> <video><source onerror="alert(1)"></video>

[1]: javascript:alert('ref')
[2]: data:text/html,<script>alert(1)</script>

[Source Link](javascript:alert('source'))
"""

HOSTILE_FILES: dict[str, dict] = {
    "hostile/script-title.md": {
        "title": f"{XSS} 降息 Rate & <b>bold</b> \"quoted\" 'single'",
        "date": "2024-07-19T04:00:00Z",
        "tags": [IMG, "a&b <c>", f"{XSS}", "javascript:alert(1)"],
        "author": "<svg onload=alert(1)>evil</svg>",
        "description": f"<iframe src=javascript:alert(1)></iframe> desc {IMG}",
        "url": "javascript:alert('url')",
        "category": f"{XSS}category",
        "extra_field": f"{IMG} extra",
    },
    "hostile/attribute-breaker.md": {
        "title": '" onmouseover="alert(1)" x="',
        "date": "2024-07-20",
        "tags": ['" onfocus="alert(1)', "tech"],
        "author": "' onclick='alert(1)",
        "url": 'https://example.com/"><script>alert(1)</script>',
    },
    "hostile/data-url.md": {
        "title": "[x](javascript:alert(1)) 数据链接测试 data url",
        "date": "2024-08-01",
        "tags": "rate, <b>bold</b>",
        "author": "data:text/html,<script>alert(1)</script>",
        "url": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    },
    f'hostile/{IMG} "q".md': {"date": "2024-08-02", "tags": ["tech"], "author": "ok.example"},
    "javascript:alert(1).md": {"title": "Root javascript id 降息", "date": "2024-08-03"},
    # Characters that mean something in a URL: they must be escaped wherever an id is linked.
    "hostile/why?.md": {"title": "Question mark id", "date": "2024-08-04", "tags": ["url"]},
    "hostile/c# 100%.md": {"title": "Hash and percent id", "date": "2024-08-05", "tags": ["url"]},
}


# Emphasis openers, a long table and unclosed tags: about 250 KB that took a Markdown
# renderer seconds per view before rendering was bounded.
PATHOLOGICAL_BODY = (
    "病态标记测试 pathological markup test.\n\n"
    + "*_" * 60_000
    + "\n\n|a|b|\n|-|-|\n"
    + "|x|y|\n" * 10_000
    + "\n"
    + "<div>" * 10_000
    + "\n\nThe end of the pathological body.\n"
)

# Files that are hard in other ways than markup: (relative path, front matter, body).
ODD_FILES: dict[str, tuple[dict, str]] = {
    "hostile/pathological.md": ({"title": "Pathological markup", "date": "2024-08-07"}, ""),
}


def write_hostile_corpus(root: Path) -> Path:
    """Write digests whose every field carries markup, handlers and script URLs."""
    for rel, meta in HOSTILE_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        path.write_text(f"---\n{head}---\n\n{HOSTILE_BODY}", encoding="utf-8")
    for rel, (meta, body) in ODD_FILES.items():
        head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        (root / rel).write_text(f"---\n{head}---\n\n{body or PATHOLOGICAL_BODY}", encoding="utf-8")
    broken = root / "hostile" / "broken-html.md"
    broken.write_text(
        f"# {XSS} heading title\n\n<div <script>alert(1)</script> <p <img src=x onerror=alert(1)// "
        f"<a href='javascript:alert(1)'\n\nEnglish tail & {IMG}\n",
        encoding="utf-8",
    )
    return root
