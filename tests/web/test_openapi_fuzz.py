"""Schemathesis against the live server: the OpenAPI description and the server agree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# 414 and 431 are how HTTP refuses a URL or headers too big to read: valid refusals of
# invalid data, like 400.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "404", "405", "414", "431"]
"""


def test_schemathesis_finds_no_disagreement(live_server, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    script = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(script),
            "--no-color",
            "--config-file",
            str(config),
            "run",
            "--checks",
            "all",
            "--max-examples",
            "150",
            "--seed",
            "20261203",
            "--max-response-time",
            "2",
            "--request-timeout",
            "10",
            f"{live_server.url}/api/openapi.json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env=dict(os.environ),
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", out)
    assert generated and generated.group(1) == generated.group(2), out[-3000:]
    assert int(generated.group(1)) >= 300, out[-3000:]
    assert "Traceback" not in live_server.log()
