"""The original import path: ``from confo.Confo import Confo``.

The class is looked up on first use (PEP 562), so this module costs nothing to import. The
package imports it early (see ``confo/__init__.py``): a submodule imported later would make
Python rebind ``confo.Confo`` to this module, and ``from confo import Confo`` would then give a
module instead of the class.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing would double the cost of import confo
if TYPE_CHECKING:
    from typing import Any

    from confo.compat.shared import Confo

__all__ = ["Confo"]


def __getattr__(name: str) -> Any:
    if name == "Confo":
        from confo.compat.shared import Confo  # noqa: PLC0415 (on first use, on purpose)

        return Confo
    raise AttributeError(f"module 'confo.Confo' has no attribute {name!r}")
