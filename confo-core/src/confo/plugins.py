"""Building one backend's plugin manager, and refusing broken plugins before anything connects.

pluggy registers whatever it is given: a class where an instance belongs, a wrapper whose
methods lack ``@hookimpl`` (so it silently wraps nothing), a backend without ``confo_write``
(found at the first persist). Each of those is a :class:`~confo.errors.PluginError` here, at
``load_backend``, naming the plugin and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

from confo.discovery import wrapper_plugin
from confo.errors import PluginError
from confo.hookspecs import HOOKS, REQUIRED_HOOKS, Backend
from confo.markers import PROJECT_NAME


class _PluginManager(pluggy.PluginManager):
    """Methods named ``confo_*`` of a :class:`~confo.hookspecs.Backend` are hooks, marked or
    not (as pytest takes ``pytest_*`` functions): the base class already types them. One that a
    subclass inherits unchanged is the specification itself, not an implementation."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> pluggy.HookimplOpts | None:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and isinstance(plugin, Backend) and name in HOOKS:
            method = getattr(type(plugin), name, None)
            if callable(method) and method is not getattr(Backend, name):
                return {
                    "wrapper": False,
                    "hookwrapper": False,
                    "optionalhook": False,
                    "tryfirst": False,
                    "trylast": False,
                    "specname": None,
                }
        return opts


def new_backend(backend_class: type, backend_type: str) -> object:
    """An instance of a backend class, or a PluginError saying what the class lacks."""
    try:
        return backend_class()
    except TypeError as exc:
        missing = sorted(getattr(backend_class, "__abstractmethods__", ()))
        if missing:
            raise PluginError(
                f"The {backend_type!r} backend {backend_class.__qualname__} does not implement "
                f"the required hooks {', '.join(missing)}: add them (see confo.hookspecs.Backend)."
            ) from exc
        raise PluginError(
            f"The {backend_type!r} backend {backend_class.__qualname__} cannot be created with "
            f"no arguments ({exc}); Confo creates it, then passes the credentials to "
            "confo_connect."
        ) from exc
    except Exception as exc:
        raise PluginError(
            f"Creating the {backend_type!r} backend {backend_class.__qualname__} failed: {exc!r}"
        ) from exc


def plugin_manager(
    backend: object, backend_type: str, plugins: Iterable[object]
) -> tuple[pluggy.PluginManager, list[object]]:
    """A plugin manager holding ``backend`` and the wrappers ``plugins`` (objects, or names
    registered under the ``confo.plugins`` entry-point group), checked; and the wrapper objects.
    """
    wrappers = [wrapper_plugin(p) if isinstance(p, str) else p for p in plugins]
    pm = _PluginManager(PROJECT_NAME)
    pm.add_hookspecs(Backend)
    try:
        pm.register(backend, name=f"backend:{backend_type}")
        _check_backend(pm, backend, backend_type)
        for wrapper in wrappers:
            _check_wrapper(wrapper)
            pm.register(wrapper)
            if not pm.get_hookcallers(wrapper):
                raise PluginError(_no_hooks(wrapper))
        pm.check_pending()  # a misspelled hook name fails here, not silently
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(
            f"A plugin of the {backend_type!r} backend does not fit Confo's hooks: {exc}"
        ) from exc
    return pm, wrappers


def _check_backend(pm: pluggy.PluginManager, backend: object, backend_type: str) -> None:
    implemented = {caller.name for caller in pm.get_hookcallers(backend) or ()}
    missing = [hook for hook in REQUIRED_HOOKS if hook not in implemented]
    if missing:
        unmarked = [hook for hook in missing if callable(getattr(backend, hook, None))]
        hint = (
            f" ({', '.join(unmarked)} exist but lack the @confo.hookimpl marker, or subclass "
            "confo.Backend)"
            if unmarked
            else ""
        )
        raise PluginError(
            f"The {backend_type!r} backend {type(backend).__qualname__} does not implement the "
            f"required hooks {', '.join(missing)}{hint}. See confo.hookspecs.Backend."
        )


def _check_wrapper(wrapper: object) -> None:
    if isinstance(wrapper, type):
        raise PluginError(
            f"plugins=[...] holds the class {wrapper.__qualname__}, where an instance belongs: "
            f"pass {wrapper.__qualname__}()."
        )


def _no_hooks(wrapper: object) -> str:
    named = sorted(
        name
        for name in dir(wrapper)
        if name.startswith("confo_") and callable(getattr(wrapper, name, None))
    )
    hint = (
        f"; its methods {', '.join(named)} lack the @confo.hookimpl(wrapper=True) marker"
        if named
        else ""
    )
    return (
        f"The plugin {wrapper!r} implements no Confo hook{hint}, so it would do nothing. "
        "Mark its hook methods with @confo.hookimpl."
    )
