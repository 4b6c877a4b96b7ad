"""``Confo()`` as the original had it: one process-wide manager, and persist's ``False``.

The original Confo was a singleton, and its documentation relies on a second ``Confo()`` seeing
the first one's backends (seed 001 lists both). ``Confo(shared=False)`` is an independent one,
for tests or several tenants in one process; :class:`confo.manager.Confo` is the core's
manager, which is never shared. ``from confo import Confo`` and ``from confo.Confo import Confo``
give this class.
"""

from __future__ import annotations

import _thread

from confo import manager

TYPE_CHECKING = False  # not typing's: the seeds' import must stay cheap
if TYPE_CHECKING:
    from typing import ClassVar


class Confo(manager.Confo):
    """The configuration manager; ``Confo()`` is the process-wide shared one (see the module)."""

    _shared: ClassVar[Confo | None] = None
    _shared_lock: ClassVar[_thread.LockType] = _thread.allocate_lock()

    def __new__(cls, *, shared: bool = True, author: str | None = None) -> Confo:
        if not shared:
            return super().__new__(cls)
        with Confo._shared_lock:  # made and set up at once: two threads get the same one
            if Confo._shared is None:
                instance = super().__new__(cls)
                manager.Confo.__init__(instance)
                Confo._shared = instance
            return Confo._shared

    def __init__(self, *, shared: bool = True, author: str | None = None) -> None:
        if getattr(self, "_sessions", None) is not None:  # the shared one, set up when made
            if author is not None:
                self.author = author
            return
        super().__init__(author=author)

    def persist(
        self,
        namespace: str | bool | None = None,
        config: str | bool | None = None,
        *,
        force: bool = False,
        message: str | None = None,
    ) -> None:
        """As :meth:`confo.manager.Confo.persist`; ``False``, as the original documentation
        writes it, means "not given", as None does."""
        super().persist(
            namespace if isinstance(namespace, str) else None,
            config if isinstance(config, str) else None,
            force=force,
            message=message,
        )
