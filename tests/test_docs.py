"""Every >>> example (and ```console block) in the README and docs/ runs, so the documentation
cannot rot.

Pages that need a server run in their backend's tests, with the test server's port; the plugin
guide runs in test_install.py, where its backend is installed. This file runs the rest and checks
that no page is left out.
"""

from __future__ import annotations

import re

import pytest
from helpers import ROOT, run_page

HERE = [
    "README.md",
    "docs/manager.md",
    "docs/migration.md",
    "docs/wrappers.md",
    "docs/schemas.md",
    "docs/typed.md",
    "docs/async.md",
    "docs/hostile-input.md",
    "docs/backends/file.md",
    "confo-core/README.md",
    "confo-file/README.md",
]
ELSEWHERE = {
    "docs/plugins.md": "tests/test_install.py",
    "docs/backends/redis.md": "confo-redis/tests/test_redis_docs.py",
    "docs/last-known-good.md": "confo-redis/tests/test_redis_docs.py",
    "docs/backends/zookeeper.md": "confo-zookeeper/tests/test_zookeeper_docs.py",
    "docs/backends/etcd.md": "confo-etcd/tests/test_etcd_docs.py",
    "confo-redis/README.md": "confo-redis/tests/test_redis_docs.py",
    "confo-zookeeper/README.md": "confo-zookeeper/tests/test_zookeeper_docs.py",
    "confo-etcd/README.md": "confo-etcd/tests/test_etcd_docs.py",
    "docs/cli.md": "confo-cli/tests/test_cli_docs.py",
    "confo-cli/README.md": "confo-cli/tests/test_cli_docs.py",
}


@pytest.mark.parametrize("page", HERE)
def test_page_examples_run(page: str) -> None:
    run_page(page)


def test_every_page_with_examples_is_run() -> None:
    found = [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("confo-*/README.md")]
    pages = {str(p.relative_to(ROOT)) for p in found}
    with_examples = {
        page
        for page in pages
        if ">>> " in (ROOT / page).read_text() or "```console" in (ROOT / page).read_text()
    }
    assert with_examples <= set(HERE) | set(ELSEWHERE)
    for page, test in ELSEWHERE.items():
        if (ROOT / page).exists():
            assert (ROOT / test).exists(), f"{page} should be run by {test}"


def test_excerpts_are_the_files_they_quote() -> None:
    """A ``<!-- from: PATH -->`` line, then a fenced block: the block is a part of PATH, so the
    plugin guide cannot drift from the template it walks through. Compared without whitespace:
    ruff formats the blocks dedented, and may join lines that had to wrap in the file."""
    pattern = re.compile(r"<!-- from: (\S+) -->\n```\w*\n(.*?)^```", re.MULTILINE | re.DOTALL)
    found = 0
    for page in ROOT.glob("docs/**/*.md"):
        for path, block in pattern.findall(page.read_text(encoding="utf-8")):
            quoted = (ROOT / path).read_text(encoding="utf-8")
            assert _bare(block) in _bare(quoted), f"{page.name} quotes {path} as it is not"
            found += 1
    assert found >= 6


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)
