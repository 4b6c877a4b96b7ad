"""Write docs/capabilities.md's matrix from what each backend declares, connected to a real store.

    .venv/bin/python tools/capabilities.py          # rewrite the matrix
    .venv/bin/python tools/capabilities.py --check  # exit 1 if the page is stale

Declarations come from ``confo_capabilities`` after connecting (etcd reads its limits from the
credentials), so servers are started here, on free 127.0.0.1 ports, as in the tests.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from confo import Confo
from confo.model import Capabilities

PAGE = Path(__file__).resolve().parents[1] / "docs" / "capabilities.md"
START, END = "<!-- capabilities: start -->", "<!-- capabilities: end -->"
BACKENDS = ["file", "redis", "zookeeper", "etcd", "sqlite"]
COLUMNS = [
    "backend",
    "watch",
    "operations per transaction",
    "bytes per transaction",
    "name length",
    "names beyond U+FFFF",
]


@contextmanager
def stores() -> Iterator[dict[str, dict[str, Any]]]:
    """Credentials for a real store of every backend type, for as long as the block lasts."""
    from confo_etcd.testing import EtcdServer
    from confo_redis.testing import RedisServer
    from confo_zookeeper.testing import ZookeeperServer

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        yield {
            "file": {"config_path": str(folder)},
            "sqlite": {"path": str(folder / "confo.db")},
            "redis": stack.enter_context(RedisServer()).credentials(),
            "zookeeper": stack.enter_context(ZookeeperServer()).credentials(),
            "etcd": stack.enter_context(EtcdServer()).credentials(),
        }


def declared(credentials: dict[str, dict[str, Any]]) -> dict[str, Capabilities]:
    found = {}
    for backend_type in BACKENDS:
        with Confo(shared=False) as manager:
            manager.load_backend(credentials[backend_type], backend_type, backend_type)
            found[backend_type] = manager.capabilities(backend_type)
    return found


def table(rows: dict[str, Capabilities]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for backend_type, caps in rows.items():
        cells = [
            f"`{backend_type}`",
            f"`{caps.watch}`",
            _limit(caps.max_transaction_ops, "operations"),
            _limit(caps.max_transaction_bytes, "bytes"),
            _limit(caps.max_name_bytes, "bytes", none="200 characters"),
            "yes" if caps.names_outside_bmp else "no",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _limit(value: int | None, unit: str, none: str = "no limit") -> str:
    if value is None:
        return none
    if unit == "bytes" and value >= 1024 and value % 1024 == 0:
        return f"{value // 1024:,} KiB"
    return f"{value:,} {unit}"


def render(page: str, matrix: str) -> str:
    before, rest = page.split(START)
    _, after = rest.split(END)
    return f"{before}{START}\n{matrix}\n{END}{after}"


def main(argv: list[str]) -> int:
    with stores() as credentials:
        matrix = table(declared(credentials))
    page = PAGE.read_text(encoding="utf-8")
    wanted = render(page, matrix)
    if "--check" in argv:
        if wanted != page:
            print(f"{PAGE} is stale: run {Path(__file__).name} to rewrite its matrix")
            return 1
        return 0
    PAGE.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
