"""A user dictionary keeps new names whole, and the index says when it changed."""

from __future__ import annotations

import json
import subprocess
import sys

from indexer.rebuild import rebuild
from searchengine import SearchRequest, open_index, search
from searchengine.config import Settings

NAME = "澄星量子"  # an invented company jieba does not know


def _corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text(
        f"---\ntitle: {NAME}完成新一轮融资\n---\n{NAME}宣布融资。\n", encoding="utf-8"
    )
    (corpus / "userdict.txt").write_text(f"# new names\n{NAME} 3000 nz\n", encoding="utf-8")
    return corpus


def test_a_dictionary_word_is_one_term_and_marks_whole(tmp_path):
    corpus = _corpus(tmp_path)
    settings = Settings.resolve(corpus, tmp_path / "index")
    assert settings.user_dict == corpus / "userdict.txt"  # found at the corpus root
    rebuild(settings, jobs=1)
    ix = open_index(tmp_path / "index")
    try:
        with ix.view() as view:
            assert view.searcher.doc_frequency("body", NAME) == 1
            assert view.meta.user_dict_hash
        resp = search(ix, SearchRequest(q=NAME))
        assert resp.total == 1
        assert f"<mark>{NAME}</mark>" in resp.results[0].title_html
    finally:
        ix.close()


def test_status_and_healthz_say_when_the_dictionary_changed(tmp_path):
    corpus = _corpus(tmp_path)
    index = tmp_path / "index"
    run = [sys.executable, "-m", "indexer"]
    built = subprocess.run(
        [*run, "rebuild", "--corpus", str(corpus), "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr

    def status() -> dict:
        out = subprocess.run(
            [*run, "status", "--index", str(index), "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return json.loads(out.stdout)

    assert status()["user_dict_changed"] is False
    with (corpus / "userdict.txt").open("a", encoding="utf-8") as f:
        f.write("另一个新名字 100\n")
    assert status()["user_dict_changed"] is True
    text = subprocess.run(
        [*run, "status", "--index", str(index)], capture_output=True, text=True, timeout=60
    ).stdout
    assert "rebuild" in text

    from web import create_app

    app = create_app({"INDEX": str(index), "TESTING": True})
    health = app.test_client().get("/healthz").get_json()
    assert health["user_dict_changed"] is True
    app.extensions["digest_index"].close()
