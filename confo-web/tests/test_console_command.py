"""``confo web`` as an operator runs it: a real process, a real Redis with a password, and
what it prints, where it listens and what it refuses."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from consoletest import request, serve, stop

from confo_redis.testing import RedisServer

PASSWORD = "store-password-canary-71"
TOKEN = "operator-token-canary-42"


@pytest.fixture(scope="module")
def redis_with_password() -> Iterator[RedisServer]:
    with RedisServer(extra_args=("--requirepass", PASSWORD)) as server:
        yield server


def other_addresses() -> list[str]:
    """This machine's addresses that are not loopback (where the console must not answer)."""
    try:
        names = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({str(info[4][0]) for info in names if not str(info[4][0]).startswith("127.")})


def listening_on(port: int) -> set[str]:
    """The addresses a socket listens on at ``port`` (IPv4 and IPv6), read from /proc."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_it_listens_on_loopback_prints_a_token_once_and_refuses_without_it(
    redis_with_password: RedisServer, tmp_path: Path
) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{redis_with_password.port}"
    process, port = serve(url)
    try:
        assert request("GET", port, "/", {"accept": "application/json"}).status_code == 401
        assert listening_on(port) == {"0100007F"}  # 127.0.0.1, and nothing else
        for address in other_addresses():
            with pytest.raises(OSError, match=r"refused|timed out|unreachable"):
                socket.create_connection((address, port), timeout=1).close()
        time.sleep(0.2)
    finally:
        printed = stop(process)
    token_lines = [line for line in printed.splitlines() if "token" in line.lower()]
    assert len(token_lines) == 1, printed
    token = token_lines[0].rsplit(" ", 1)[-1]
    assert len(token) >= 24
    assert PASSWORD not in printed
    assert "redis://:***@127.0.0.1" in printed


def test_a_token_from_the_environment_is_never_printed_nor_a_password_shown(
    redis_with_password: RedisServer,
) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{redis_with_password.port}"
    process, port = serve(url, env={"CONFO_WEB_TOKEN": TOKEN}, args=("--read-only",))
    try:
        auth = {"authorization": f"Bearer {TOKEN}"}
        pages = [request("GET", port, path, auth) for path in ("/", "/login")]
        assert [page.status_code for page in pages] == [200, 200]
        for page in pages:
            assert PASSWORD not in page.text
            assert TOKEN not in page.text
        assert "read-only" in pages[0].text
        missing = request("GET", port, "/ns/nowhere", auth)
        assert missing.status_code == 404
        assert PASSWORD not in missing.text
        write = request("POST", port, "/ns/x/c/y/save", auth, {"value": "{}"})
        assert write.status_code == 403
        # Behind a TLS proxy on 127.0.0.1, which says so, the session cookie is Secure.
        plain = request("POST", port, "/login", None, {"token": TOKEN})
        proxied = request("POST", port, "/login", {"x-forwarded-proto": "https"}, {"token": TOKEN})
        assert [plain.status_code, proxied.status_code] == [303, 303]
        assert "secure" not in plain.headers["set-cookie"].lower()
        assert "; secure" in proxied.headers["set-cookie"].lower()
    finally:
        printed = stop(process)
    assert TOKEN not in printed
    assert PASSWORD not in printed
    assert "CONFO_WEB_TOKEN" in printed
