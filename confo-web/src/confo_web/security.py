"""Who may use the console, and which requests may write.

- Every request but the login page's needs the token: ``Authorization: Bearer <token>``, or the
  session cookie the login page sets (HttpOnly, SameSite=Strict; its value is derived from the
  token, not the token itself).
- Every write (any POST but the login) needs the CSRF token, derived from the token too, in a
  form field or the ``X-CSRF-Token`` header, and an ``Origin``, where the browser sends one,
  of the console itself. With ``--read-only`` every write is refused.
- Request bodies are bounded (:data:`MAX_BODY`); pages are sent with a strict
  Content-Security-Policy, no framing, and no caching.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

MAX_BODY = 1 << 20
"""Bytes a request body may hold: a configuration of up to about a megabyte of JSON."""
COOKIE = "confo_web_session"
PUBLIC = ("/login", "/static/")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Refused(Exception):
    """A request refused: its status and the message the page shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def derived(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


class Guard:
    """The console's token, and the session and CSRF values derived from it."""

    def __init__(self, token: str, *, read_only: bool) -> None:
        self._token = token
        self.session = derived(token, "session")
        self.csrf = derived(token, "csrf")
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"<Guard read_only={self.read_only}>"  # never the token

    def token_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self._token.encode())

    def authenticated(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and given and self.token_matches(given.strip()):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), self.session.encode())

    async def writing(self, request: Request) -> FormData:
        """The form of a write, once it passed the CSRF and read-only checks.

        :raises Refused: read-only, or no valid CSRF token, or a foreign Origin.
        """
        if self.read_only:
            raise Refused(403, "This console is read-only (--read-only): nothing was written.")
        return await self.checked(request)

    async def checked(self, request: Request) -> FormData:
        """The form of a POST with a valid CSRF token from this console's own pages.

        :raises Refused: no valid CSRF token, or a foreign Origin.
        """
        form = await request.form()
        given = str(form.get("csrf_token") or request.headers.get("x-csrf-token") or "")
        if not hmac.compare_digest(given.encode(), self.csrf.encode()):
            raise Refused(
                403,
                "This form is not from this console (no valid CSRF token): "
                "nothing was written. Reload the page and try again.",
            )
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
            raise Refused(403, f"A write from another site ({origin}) was refused.")
        return form


class GuardMiddleware:
    """Bounds bodies, requires the token, and sets the headers every response carries."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            await _secured(refusal)(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, _bounded(receive), send_secured)

    def _refusal(self, request: Request) -> Response | None:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return PlainTextResponse(f"Request bodies are limited to {MAX_BODY} bytes.", 413)
        if request.url.path.startswith(PUBLIC) or self.guard.authenticated(request):
            return None
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/login", 303)
        return PlainTextResponse(
            "The console needs its token: send 'Authorization: Bearer <token>', or log in at "
            "/login.",
            401,
            headers={"WWW-Authenticate": "Bearer"},
        )


HEADERS = {
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # "no-referrer" makes Chromium send Origin: null
    "cache-control": "no-store",
}


def _secured(response: Response) -> Response:
    for key, value in HEADERS.items():
        response.headers[key] = value
    return response


def _bounded(receive: Receive) -> Receive:
    """``receive`` that refuses a body beyond MAX_BODY (one sent without a length too)."""
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise Refused(413, f"Request bodies are limited to {MAX_BODY} bytes.")
        return message

    return bounded
