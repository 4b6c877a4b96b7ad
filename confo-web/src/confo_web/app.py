"""The console's pages: Starlette routes over a loaded :class:`~confo.manager.Confo`.

Pages are rendered on the server (Jinja2, autoescaped); ``static/console.js`` adds the schema
check as you type, live updates (server-sent events) and revealing a secret. Store calls run
on Starlette's thread pool, so a slow store never blocks the event loop. Every value shown, in
any page, event or export, passes through :func:`confo_web.masking.masked` first.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import threading
from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from confo.errors import (
    ConfigurationNotFoundError,
    ConflictError,
    ConfoError,
    NamespaceNotFoundError,
    SchemaError,
)
from confo.events import WatchEvent
from confo.manager import Confo
from confo.namespace import Namespace
from confo.values import JSONObject
from confo_web.masking import (
    is_secret,
    masked,
    masked_schema,
    redacted,
    revealed,
    schema_secrets,
    unmasked,
    unmasked_schema,
    url_passwords,
)
from confo_web.security import COOKIE, Guard, GuardMiddleware, Refused

HERE = Path(__file__).parent
T = TypeVar("T")


@dataclass
class Edit:
    """What the editor shows: the text being edited, the revision it is based on, and what
    the store holds (masked) when it differs."""

    text: str
    base: str
    error: str | None = None
    theirs: str | None = None


def pretty(value: Any) -> str:
    return json.dumps(masked(value), indent=2, ensure_ascii=False)


def diff_lines(before: Any, after: Any) -> list[tuple[str, str]]:
    """(css class, line) of a unified diff of two values, masked, as pretty JSON."""
    old = [] if before is None else pretty(before).splitlines()
    new = [] if after is None else pretty(after).splitlines()
    lines = list(difflib.unified_diff(old, new, "before", "after", lineterm="", n=2))[2:]
    kind = {"+": "added", "-": "removed", "@": "hunk"}
    return [(kind.get(line[:1], "same"), line) for line in lines]


def _schema_text(schema: Any) -> str:
    return json.dumps(masked_schema(schema), indent=2, ensure_ascii=False)


def parsed_json(text: str) -> Any:
    """``text`` as JSON. :raises ValueError: saying where and why it is not."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    except RecursionError:
        raise ValueError("Not JSON this console reads: it is nested too deeply.") from None


def secret_paths(value: Any, path: tuple[str, ...] = ()) -> list[list[str]]:
    """Where ``value`` holds secret fields (to offer revealing each)."""
    found: list[list[str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, str(key))
            found += [list(here)] if is_secret(str(key)) else secret_paths(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += secret_paths(item, (*path, str(index)))
    elif isinstance(value, str) and url_passwords(value):
        found.append(list(path))  # a URL holding a password
    return found


class Console:
    """The routes of one console, over ``manager`` (a backend loaded and active)."""

    def __init__(self, manager: Confo, *, label: str, guard: Guard) -> None:
        self.manager = manager
        self.label = label  # the store's URL, its password redacted
        self.guard = guard
        self.templates = Jinja2Templates(directory=HERE / "templates")
        # Requests run side by side on one manager: a save (reload, set, persist) must not
        # have another's reload (any page's), or a rollback, drop its edit in between. Held
        # only for those calls, on the threadpool, never across an await.
        self.editing = threading.RLock()

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(call, *args)

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.update(
            store=self.label, read_only=self.guard.read_only, csrf=self.guard.csrf, path=request
        )
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def _fresh(self, namespace: str) -> Namespace:
        """A handle on ``namespace`` holding what the store holds now."""
        with self.editing:
            handle = self.manager.namespace(namespace)
            handle.reload()
        return handle

    async def edit(self, call: Callable[..., T], *args: Any) -> T:
        """``call`` on the threadpool, holding :attr:`editing`: a save, a delete, a rollback
        (which replaces unsaved edits of what it writes)."""

        def locked() -> T:
            with self.editing:
                return call(*args)

        return await self.run(locked)

    # --- pages ---------------------------------------------------------------------------

    async def namespaces(self, request: Request) -> Response:
        found = await self.run(self.manager.get_namespaces)
        return self.page(request, "namespaces.html", names=sorted(found["all_namespaces"]))

    async def create_namespace(self, request: Request) -> Response:
        form = await self.guard.writing(request)
        name = str(form.get("name", "")).strip()
        await self.run(self.manager.create_namespace, name)
        return RedirectResponse(f"/ns/{quote(name, '')}?created=1", 303)

    async def delete_namespace(self, request: Request) -> Response:
        """GET: what deleting the namespace removes, and a form to confirm it by typing its
        name; POST: delete it (and its history), if the name typed is the namespace's."""
        ns = request.path_params["ns"]
        handle = await self.run(self._fresh, ns)
        error = None
        if request.method == "POST":
            form = await self.guard.writing(request)
            if str(form.get("confirm", "")).strip() == ns:
                await self.run(self.manager.delete_namespace, ns)
                return RedirectResponse(f"/?deleted={quote(ns, '')}", 303)
            error = f"Type the namespace's name, {ns!r}, to delete it: nothing was deleted."
        return self.page(
            request,
            "delete_namespace.html",
            400 if error else 200,
            ns=ns,
            configs=sorted(handle.get_all()),
            error=error,
        )

    async def delete_config(self, request: Request) -> Response:
        """GET: the configuration as it is, and a button to delete it; POST: delete it, if the
        store still holds what the page showed (else show what it holds now)."""
        ns, config = request.path_params["ns"], request.path_params["config"]
        status, note = 200, None
        if request.method == "POST":
            form = await self.guard.writing(request)
            base = str(form.get("base", ""))
            message = str(form.get("message", "")).strip() or None
            try:
                await self.edit(self._delete, ns, config, base, message)
                return RedirectResponse(f"/ns/{quote(ns, '')}?deleted={quote(config, '')}", 303)
            except _Stale:
                status = 409
                note = "Someone changed it in the store since; this is what it holds now."
        handle = await self.run(self._fresh, ns)
        stored = handle.get(config)  # ConfigurationNotFoundError: the error page names it
        revision = handle.revision(config)
        return self.page(
            request,
            "delete_config.html",
            status,
            ns=ns,
            config=config,
            text=pretty(stored),
            base="" if revision is None else str(revision),
            note=note,
        )

    def _delete(self, ns: str, config: str, base: str, message: str | None) -> None:
        handle = self._fresh(ns)
        revision = handle.revision(config)
        if revision is not None and str(revision) != base:
            raise _Stale(str(revision), "")  # the page shows what the store holds now
        handle.delete(config)
        try:
            handle.persist(config, message=message)
        except ConflictError:
            handle.reload()  # drops the deletion this manager holds: the store's value shows
            raise _Stale("", "") from None

    async def namespace(self, request: Request) -> Response:
        name = request.path_params["ns"]
        new = request.query_params.get("name")
        if new:  # the "new configuration" form
            return RedirectResponse(f"/ns/{quote(name, '')}/c/{quote(new, '')}", 303)
        handle = await self.run(self._fresh, name)
        configs = handle.get_all()
        rows = [
            (config, json.dumps(masked(values), ensure_ascii=False), handle.revision(config))
            for config, values in sorted(configs.items())
        ]
        return self.page(request, "namespace.html", ns=name, rows=rows)

    async def editor(
        self, request: Request, edit: Edit | None = None, status: int = 200
    ) -> Response:
        ns, config = request.path_params["ns"], request.path_params["config"]
        handle = await self.run(self._fresh, ns)
        stored = handle.get(config, default=None)
        if edit is None:
            base = handle.revision(config)
            edit = Edit(
                pretty(stored if stored is not None else {}), "" if base is None else str(base)
            )
        schema = await self.run(handle.get_schema, config)
        return self.page(
            request,
            "editor.html",
            status,
            ns=ns,
            config=config,
            edit=edit,
            new=stored is None,
            schema=None if schema is None else _schema_text(schema),
            secrets=secret_paths(stored) if stored is not None else [],
        )

    def _parsed(self, text: str) -> JSONObject:
        """The editor's text as a configuration. :raises ValueError: saying where and why."""
        value = parsed_json(text)
        if not isinstance(value, dict):
            raise ValueError("A configuration is a JSON object: {...}.")
        return value

    async def check(self, request: Request) -> Response:
        """As you type: is the text JSON, an object, and does it pass the schema?"""
        form = await self.guard.checked(request)  # writes nothing, but only for our pages
        ns, config = request.path_params["ns"], request.path_params["config"]
        handle = await self.run(self.manager.namespace, ns)
        stored, value = handle.get(config, default=None), None
        try:
            value = self._parsed(str(form.get("value", "")))
            await self.run(self._validate, handle, config, unmasked(value, stored))
        except (ValueError, SchemaError) as exc:
            error = await self._masked(handle, config, str(exc), stored, value)
            return JSONResponse({"ok": False, "error": error})
        return JSONResponse({"ok": True, "error": None})

    def _validate(self, handle: Namespace, config: str, value: JSONObject) -> None:
        from confo import schemas  # noqa: PLC0415

        schemas.check(handle.name, config, handle.get_schema(config), value)

    async def review(self, request: Request) -> Response:
        """The diff between what the store holds and the edit, before anything is saved."""
        form = await self.guard.writing(request)
        ns, config = request.path_params["ns"], request.path_params["config"]
        text, base = str(form.get("value", "")), str(form.get("base", ""))
        handle = await self.run(self._fresh, ns)
        stored, value = handle.get(config, default=None), None
        try:
            value = self._parsed(text)
            new = unmasked(value, stored)
            await self.run(self._validate, handle, config, new)
        except (ValueError, SchemaError) as exc:
            error = await self._masked(handle, config, str(exc), stored, value)
            return await self.editor(request, Edit(text, base, error), 400)
        return self.page(
            request,
            "review.html",
            ns=ns,
            config=config,
            text=text,
            base=base,
            lines=diff_lines(stored, new),
            unchanged=stored == new,
        )

    async def save(self, request: Request) -> Response:
        """Write the edit if the store still holds what it was based on; else show theirs,
        keeping yours."""
        form = await self.guard.writing(request)
        ns, config = request.path_params["ns"], request.path_params["config"]
        text, base = str(form.get("value", "")), str(form.get("base", ""))
        message = str(form.get("message", "")).strip() or None
        value: Any = None
        try:
            value = self._parsed(text)
            await self.edit(self._save, ns, config, value, base, message)
        except _Stale as stale:
            note = (
                "Someone changed this configuration in the store since you opened it. "
                "Yours is kept below; theirs is on the right. Save again to replace theirs."
            )
            return await self.editor(request, Edit(text, stale.revision, note, stale.theirs), 409)
        except (ValueError, ConfoError) as exc:
            stored = await self.run(self._stored, ns, config)
            handle = await self.run(self.manager.namespace, ns)
            typed = value if isinstance(value, dict) else None
            error = await self._masked(handle, config, str(exc), stored, typed)
            return await self.editor(request, Edit(text, base, error), 400)
        return RedirectResponse(f"/ns/{quote(ns, '')}?saved={quote(config, '')}", 303)

    async def _masked(self, handle: Namespace, config: str, message: str, *values: Any) -> str:
        """``message`` with the secrets of ``values`` and of ``config``'s schema masked."""
        try:
            schema = await self.run(handle.get_schema, config)
        except ConfoError:
            schema = None
        return redacted(message, *values, secrets=schema_secrets(schema))

    async def redacted(self, ns: str, message: str, secrets: Collection[Any] = ()) -> str:
        """``message`` (a store's error) with every secret the namespace holds, or held in its
        recent history, or hidden in its schemas, masked: an error about a value (a rollback's
        "not one of [...]") must not show what pages never do."""

        def known() -> tuple[list[Any], list[Any]]:
            handle = self.manager.namespace(ns)
            values: list[Any] = [handle.get_all()]
            hidden: list[Any] = []
            with suppress(ConfoError):
                for record in handle.history(None, 100):
                    values += [
                        c[side] for c in record.changes.values() for side in ("before", "after")
                    ]
            with suppress(ConfoError):
                for schema in handle.get_schemas().values():
                    hidden += schema_secrets(schema)
            return values, hidden

        try:
            values, hidden = await self.run(known)
        except ConfoError:
            values, hidden = [], []
        return redacted(message, *values, secrets=[*secrets, *hidden])

    def _stored(self, ns: str, config: str) -> Any:
        return self.manager.namespace(ns).get(config, default=None)

    def _save(
        self, ns: str, config: str, value: JSONObject, base: str, message: str | None
    ) -> None:
        handle = self._fresh(ns)
        stored = handle.get(config, default=None)
        revision = handle.revision(config)
        if ("" if revision is None else str(revision)) != base:
            raise _Stale("" if revision is None else str(revision), pretty(stored))
        handle.set(config, unmasked(value, stored))
        try:
            handle.persist(config, message=message)
        except ConflictError:
            handle.reload()
            now = handle.revision(config)
            raise _Stale(
                "" if now is None else str(now), pretty(handle.get(config, default=None))
            ) from None

    async def history(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        config = request.query_params.get("config") or None
        handle = await self.run(self.manager.namespace, ns)
        records = await self.run(handle.history, config, 50)
        shown = [
            (
                record,
                [
                    (name, diff_lines(change["before"], change["after"]))
                    for name, change in sorted(record.changes.items())
                ],
            )
            for record in records
        ]
        return self.page(request, "history.html", ns=ns, config=config, records=shown)

    async def rollback(self, request: Request) -> Response:
        """GET: what a rollback to a record would write, and a button to confirm; POST: do it."""
        ns, to = request.path_params["ns"], request.path_params["record"]
        handle = await self.run(self.manager.namespace, ns)
        if request.method == "POST":
            form = await self.guard.writing(request)
            message = str(form.get("message", "")).strip() or None
            await self.edit(lambda: handle.rollback(to, message=message))
            return RedirectResponse(f"/ns/{quote(ns, '')}/history?rolled_back={quote(to, '')}", 303)
        planned = await self.run(lambda: handle.rollback(to, dry_run=True))
        changes = (
            []
            if planned is None
            else [
                (name, diff_lines(change["before"], change["after"]))
                for name, change in sorted(planned.changes.items())
            ]
        )
        return self.page(request, "rollback.html", ns=ns, to=to, changes=changes)

    async def schema(self, request: Request) -> Response:
        ns, config = request.path_params["ns"], request.path_params["config"]
        handle = await self.run(self.manager.namespace, ns)
        error, text = None, None
        if request.method == "POST":
            form = await self.guard.writing(request)
            text = str(form.get("schema", "")).strip()
            stored = await self.run(handle.get_schema, config)
            try:
                schema = None if not text else unmasked_schema(parsed_json(text), stored)
                await self.run(
                    lambda: handle.set_schema(
                        config, schema, message=str(form.get("message", "")).strip() or None
                    )
                )
                return RedirectResponse(
                    f"/ns/{quote(ns, '')}/c/{quote(config, '')}?schema=saved", 303
                )
            except ConfoError as exc:  # first: a SchemaError is a ValueError too
                error = await self.redacted(ns, str(exc), schema_secrets(stored))
            except ValueError as exc:
                error = str(exc)
        if text is None:
            current = await self.run(handle.get_schema, config)
            text = "" if current is None else _schema_text(current)
        return self.page(
            request,
            "schema.html",
            400 if error else 200,
            ns=ns,
            config=config,
            text=text,
            error=error,
        )

    async def export(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        handle = await self.run(self._fresh, ns)
        body = json.dumps({ns: masked(handle.get_all())}, indent=2, ensure_ascii=False)
        return Response(
            body,
            media_type="application/json",
            headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(ns, '')}.json"},
        )

    async def reveal(self, request: Request) -> Response:
        ns, config = request.path_params["ns"], request.path_params["config"]
        path = request.query_params.get("path", "").split("/")
        handle = await self.run(self._fresh, ns)
        try:
            value = revealed(handle.get(config), path)
        except (KeyError, ConfigurationNotFoundError):
            return JSONResponse({"error": f"No field {'/'.join(path)!r} in {config!r}."}, 404)
        return JSONResponse({"value": value})

    async def events(self, request: Request) -> Response:
        """Server-sent events: one per change of the namespace in the store, masked."""
        ns = request.path_params["ns"]
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        watch = await self.run(
            self.manager.watch, lambda event: loop.call_soon_threadsafe(queue.put_nowait, event), ns
        )

        async def stream() -> Any:
            try:
                while True:
                    event = await queue.get()
                    yield {
                        "event": "change",
                        "data": json.dumps(
                            {
                                "config": event.config,
                                "kind": event.kind,
                                "revision": None if event.revision is None else str(event.revision),
                                "value": None
                                if event.value is None
                                else json.dumps(masked(event.value), ensure_ascii=False),
                                "pretty": None if event.value is None else pretty(event.value),
                            },
                            ensure_ascii=False,
                        ),
                    }
            finally:
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(watch.stop)

        return EventSourceResponse(stream(), ping=15)

    # --- login ---------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            return self.page(request, "login.html")
        form = await request.form()
        if not self.guard.token_matches(str(form.get("token", ""))):
            return self.page(request, "login.html", 401, error="That is not this console's token.")
        response = RedirectResponse("/", 303)
        # Secure where the page came over TLS (uvicorn takes X-Forwarded-Proto from a proxy on
        # 127.0.0.1): the browser then never sends the session in clear. Over plain HTTP on
        # 127.0.0.1 a Secure cookie would not be sent back at all.
        secure = request.url.scheme == "https"
        response.set_cookie(
            COOKIE, self.guard.session, httponly=True, samesite="strict", secure=secure
        )
        return response

    async def logout(self, request: Request) -> Response:
        await self.guard.checked(request)  # a forged form must not log anyone out either
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE)
        return response


class _Stale(Exception):
    def __init__(self, revision: str, theirs: str) -> None:
        super().__init__(revision)
        self.revision = revision
        self.theirs = theirs


def create_app(manager: Confo, *, token: str, label: str, read_only: bool = False) -> Starlette:
    """The console over ``manager``, whose active backend it shows; every request needs
    ``token`` (see :mod:`confo_web.security`)."""
    guard = Guard(token, read_only=read_only)
    console = Console(manager, label=label, guard=guard)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return console.page(request, "error.html", exc.status, message=str(exc))

    async def missing(request: Request, exc: Exception) -> Response:
        # In the console's words: the library's advice names Python calls (create_namespace).
        ns = request.path_params.get("ns")
        message = (
            f"The store has no namespace {ns!r}: it was deleted, or never made. The namespaces "
            "page lists those there are, and makes new ones."
            if ns is not None
            else str(exc)
        )
        return console.page(request, "error.html", 404, message=message)

    async def failed(request: Request, exc: Exception) -> Response:
        ns = request.path_params.get("ns")
        message = str(exc) if ns is None else await console.redacted(ns, str(exc))
        return console.page(request, "error.html", 400, message=message)

    routes = [
        Route("/", console.namespaces),
        Route("/namespaces", console.create_namespace, methods=["POST"]),
        Route("/ns/{ns}/delete", console.delete_namespace, methods=["GET", "POST"]),
        Route("/ns/{ns}/c/{config}/delete", console.delete_config, methods=["GET", "POST"]),
        Route("/login", console.login, methods=["GET", "POST"]),
        Route("/logout", console.logout, methods=["POST"]),
        Route("/ns/{ns}", console.namespace),
        Route("/ns/{ns}/history", console.history),
        Route("/ns/{ns}/export", console.export),
        Route("/ns/{ns}/events", console.events),
        Route("/ns/{ns}/rollback/{record}", console.rollback, methods=["GET", "POST"]),
        Route("/ns/{ns}/c/{config}", console.editor),
        Route("/ns/{ns}/c/{config}/check", console.check, methods=["POST"]),
        Route("/ns/{ns}/c/{config}/review", console.review, methods=["POST"]),
        Route("/ns/{ns}/c/{config}/save", console.save, methods=["POST"]),
        Route("/ns/{ns}/c/{config}/schema", console.schema, methods=["GET", "POST"]),
        Route("/ns/{ns}/c/{config}/reveal", console.reveal),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={Refused: refused, NamespaceNotFoundError: missing, ConfoError: failed},
    )
    app.add_middleware(GuardMiddleware, guard=guard)
    return app
