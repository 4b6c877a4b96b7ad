"""The code of the original documentation pages (tests/seeds/), ready to run.

A page's fenced blocks are its examples. Lines after a ``#RESULTS`` marker show output, up to the
next comment line, and are dropped; blocks that are not Python (the ZooKeeper tree, the persist
levels diagram) are left out, and the caller checks how many that was.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "tests" / "seeds"
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def seed_page(prefix: str) -> Path:
    """The seed page whose file name starts with ``prefix`` (``"001"``)."""
    pages = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if len(pages) != 1:
        raise FileNotFoundError(f"expected one seed page {prefix}_*.txt in {SEEDS}, found {pages}")
    return pages[0]


def code_blocks(prefix: str) -> tuple[list[str], int]:
    """The page's Python blocks without their shown results, and how many blocks were not code."""
    blocks, skipped = [], 0
    for block in FENCE.findall(seed_page(prefix).read_text(encoding="utf-8")):
        code = _without_results(block)
        try:
            compile(code, prefix, "exec")
        except SyntaxError:
            skipped += 1
            continue
        blocks.append(code)
    return blocks, skipped


def _without_results(block: str) -> str:
    kept, in_results = [], False
    for line in block.splitlines():
        if line.strip().upper().startswith("#RESULTS"):
            in_results = True
            continue
        if in_results and line.lstrip().startswith("#"):
            in_results = False
        if not in_results:
            kept.append(line)
    return "\n".join(kept) + "\n"


def on_file_backend(code: str, config_path: str) -> str:
    """The same code aimed at the file backend: every call of the seed, no server needed."""
    code = re.sub(r"BE\.(ETCD|REDIS|ZOOKEEPER)_BACKEND", "BE.FILE_BACKEND", code)
    code = re.sub(r"credentials=cred2?\b", f"credentials={{'config_path': {config_path!r}}}", code)
    return code.replace(
        "from confo.Backends.EtcdBackend import EtcdBackend",
        "from confo.Backends.FileBackend import FileBackend",
    )


def program(prefix: str, replacements: dict[str, str]) -> str:
    """The page's code blocks as one program, with the documented ports replaced."""
    blocks, _ = code_blocks(prefix)
    code = "\n".join(blocks)
    for old, new in replacements.items():
        assert old in code, f"seed {prefix} has no {old!r} to replace"
        code = code.replace(old, new)
    return code
