"""Finding backend classes and wrapper plugins through entry points.

A backend type (``"redis"``) resolves to the class that an installed distribution registers under
that name in the ``confo.backends`` entry-point group; a wrapper named in
``load_backend(..., plugins=["name"])`` to what one registers in ``confo.plugins``. Only what is
asked for is imported, so ``import confo`` stays cheap and a broken plugin harms nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from confo.errors import BackendNotInstalledError, PluginError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint, EntryPoints

ENTRY_POINT_GROUP = "confo.backends"
WRAPPER_ENTRY_POINT_GROUP = "confo.plugins"

# Where the backends of this project live, for the "pip install ..." advice.
DISTRIBUTIONS = {
    "file": "confo-file",
    "etcd": "confo-etcd",
    "zookeeper": "confo-zookeeper",
    "redis": "confo-redis",
}


def installed_types() -> list[str]:
    """The backend types that installed distributions register, sorted."""
    from importlib.metadata import entry_points  # noqa: PLC0415 (costly: only when needed)

    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def backend_class(backend_type: str) -> type:
    """Import and return the class registered for ``backend_type``."""
    from importlib.metadata import entry_points  # noqa: PLC0415 (costly: only when needed)

    found = entry_points(group=ENTRY_POINT_GROUP, name=backend_type)
    if not found:
        raise BackendNotInstalledError(_not_installed(backend_type), name=backend_type)
    entry_point = _only(found, f"backend type {backend_type!r}")
    try:
        loaded = entry_point.load()
    except Exception as exc:
        raise PluginError(
            f"The Confo backend {backend_type!r} from {_owner(entry_point)} failed to import: "
            f"{exc!r}. Reinstall it: pip install --force-reinstall {_owner(entry_point)}"
        ) from exc
    if not isinstance(loaded, type):
        raise PluginError(
            f"The entry point {entry_point.value!r} of {_owner(entry_point)} for backend type "
            f"{backend_type!r} is a {type(loaded).__name__}, not a class."
        )
    return loaded


def wrapper_plugin(name: str) -> object:
    """Import what an installed distribution registers as wrapper ``name``: a class (made into an
    instance here, with no arguments), or a ready plugin object (an instance or a module)."""
    from importlib.metadata import entry_points  # noqa: PLC0415 (costly: only when needed)

    found = entry_points(group=WRAPPER_ENTRY_POINT_GROUP, name=name)
    if not found:
        known = sorted({ep.name for ep in entry_points(group=WRAPPER_ENTRY_POINT_GROUP)})
        raise PluginError(
            f"No installed distribution registers the Confo wrapper plugin {name!r} "
            f"(installed wrappers: {', '.join(known) or 'none'}). A wrapper registers under the "
            f"{WRAPPER_ENTRY_POINT_GROUP!r} entry-point group; or pass the plugin object itself."
        )
    entry_point = _only(found, f"wrapper plugin {name!r}")
    try:
        loaded = entry_point.load()
        return loaded() if isinstance(loaded, type) else loaded
    except Exception as exc:
        raise PluginError(
            f"The Confo wrapper plugin {name!r} from {_owner(entry_point)} failed to load: "
            f"{exc!r}. Reinstall it: pip install --force-reinstall {_owner(entry_point)}"
        ) from exc


def _only(found: EntryPoints, what: str) -> EntryPoint:
    """The one entry point found, or a PluginError naming the distributions that compete."""
    if len(found) > 1:
        owners = ", ".join(sorted(_owner(ep) for ep in found))
        raise PluginError(
            f"Several installed distributions register the Confo {what}: {owners}. "
            "Uninstall all but one."
        )
    (entry_point,) = found
    return entry_point


def _owner(entry_point: EntryPoint) -> str:
    dist = entry_point.dist
    return dist.name if dist is not None else entry_point.value


def _not_installed(backend_type: str) -> str:
    distribution = DISTRIBUTIONS.get(backend_type)
    installed = ", ".join(installed_types()) or "none"
    if distribution:
        return (
            f"The Confo backend {backend_type!r} is not installed. "
            f"Install it with: pip install {distribution}  (installed backends: {installed})"
        )
    return (
        f"No installed distribution registers the Confo backend type {backend_type!r} "
        f"(installed backends: {installed}). A backend registers its class under the "
        f"{ENTRY_POINT_GROUP!r} entry-point group; see docs/plugins.md."
    )
