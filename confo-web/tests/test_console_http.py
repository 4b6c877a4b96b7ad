"""The console over HTTP (Starlette's TestClient) on a real file store: what it shows, what
it writes, and every request it must refuse, with nothing written."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
from confo_web.app import create_app
from confo_web.masking import MASK
from confo_web.security import MAX_BODY
from starlette.testclient import TestClient

from confo.manager import Confo

TOKEN = "test-token-5f1c"
SECRET = "hunter2-canary"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Confo]:
    manager = Confo()
    manager.load_backend({"config_path": str(tmp_path)}, "files", "file")
    manager.activate_backend("files")
    manager.create_namespace("shop")
    manager.use_namespace("shop")
    manager.set("db", {"host": "db.internal", "port": 5432, "password": SECRET})
    manager.set("flags", {"new_checkout": False})
    manager.persist(message="first")
    yield manager
    manager.close()


def client_for(store: Confo, *, read_only: bool = False) -> TestClient:
    app = create_app(store, token=TOKEN, label="file:./configs", read_only=read_only)
    return TestClient(app, base_url="http://127.0.0.1:8734")


@pytest.fixture
def client(store: Confo) -> Iterator[TestClient]:
    with client_for(store) as client:
        client.post("/login", data={"token": TOKEN})
        yield client


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def stored(store: Confo, config: str) -> object:
    handle = store.namespace("shop")
    handle.reload()
    return handle.get(config, default=None)


def test_every_request_needs_the_token(store: Confo) -> None:
    with client_for(store) as anonymous:
        assert anonymous.get("/", headers={"accept": "application/json"}).status_code == 401
        page = anonymous.get("/ns/shop", headers={"accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == "/login"
        assert anonymous.get("/ns/shop/export").status_code == 401
        assert anonymous.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert anonymous.post("/login", data={"token": "wrong"}).status_code == 401
        assert anonymous.get("/", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        login = anonymous.post("/login", data={"token": TOKEN}, follow_redirects=False)
        cookie = login.headers["set-cookie"]
        assert "httponly" in cookie.lower()
        assert "samesite=strict" in cookie.lower()
        assert TOKEN not in cookie  # the session value is derived, not the token
        assert "secure" not in cookie.lower()  # plain HTTP: a Secure cookie would never return
        assert anonymous.get("/").status_code == 200


def test_over_tls_the_session_cookie_is_secure(store: Confo) -> None:
    app = create_app(store, token=TOKEN, label="file:./configs")
    with TestClient(app, base_url="https://127.0.0.1:8734") as client:
        login = client.post("/login", data={"token": TOKEN}, follow_redirects=False)
        assert login.status_code == 303
        assert "; secure" in login.headers["set-cookie"].lower()
        assert client.get("/").status_code == 200


def test_pages_and_exports_never_hold_a_secret_until_revealed(client: TestClient) -> None:
    for url in ("/ns/shop", "/ns/shop/c/db", "/ns/shop/history", "/ns/shop/export"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert SECRET not in page.text, url
        assert TOKEN not in page.text, url
    assert MASK in client.get("/ns/shop/c/db").text
    exported = json.loads(client.get("/ns/shop/export").text)
    assert exported["shop"]["db"]["password"] == MASK
    assert client.get("/ns/shop/c/db/reveal?path=password").json() == {"value": SECRET}


def test_edit_review_and_save_keeps_a_masked_secret(client: TestClient, store: Confo) -> None:
    editor = client.get("/ns/shop/c/db").text
    base = re.search(r'name="base" value="([^"]*)"', editor)
    assert base
    text = json.dumps({"host": "db2.internal", "port": 5432, "password": MASK})
    fields = {"csrf_token": csrf(editor), "base": base.group(1), "value": text}
    review = client.post("/ns/shop/c/db/review", data=fields)
    assert review.status_code == 200
    assert '+  "host": "db2.internal",' in html.unescape(review.text)  # the diff, before a write
    assert stored(store, "db") == {"host": "db.internal", "port": 5432, "password": SECRET}
    saved = client.post("/ns/shop/c/db/save", data={**fields, "message": "move the db"})
    assert saved.status_code == 200
    assert stored(store, "db") == {"host": "db2.internal", "port": 5432, "password": SECRET}
    assert store.namespace("shop").history("db", 1)[0].message == "move the db"


def test_a_stale_page_shows_theirs_and_keeps_yours(client: TestClient, store: Confo) -> None:
    editor = client.get("/ns/shop/c/flags").text
    base = re.search(r'name="base" value="([^"]*)"', editor)
    assert base
    store.set("flags", {"new_checkout": True, "by": "someone else"})
    store.persist()
    mine = json.dumps({"new_checkout": False, "mine": 1})
    fields = {"csrf_token": csrf(editor), "base": base.group(1), "value": mine}
    conflict = client.post("/ns/shop/c/flags/save", data=fields)
    assert conflict.status_code == 409
    assert "someone else" in conflict.text  # theirs
    assert '"mine": 1' in html.unescape(conflict.text)  # yours, kept
    assert stored(store, "flags") == {"new_checkout": True, "by": "someone else"}
    again = re.search(r'name="base" value="([^"]*)"', conflict.text)
    assert again
    assert again.group(1) != base.group(1)
    saved = client.post("/ns/shop/c/flags/save", data={**fields, "base": again.group(1)})
    assert saved.status_code == 200
    assert stored(store, "flags") == {"new_checkout": False, "mine": 1}


def test_bad_input_is_a_message_and_nothing_is_written(client: TestClient, store: Confo) -> None:
    store.set_schema("flags", {"properties": {"new_checkout": {"type": "boolean"}}})
    editor = client.get("/ns/shop/c/flags").text
    token = csrf(editor)
    base = re.search(r'name="base" value="([^"]*)"', editor)
    assert base
    cases = {
        '{"new_checkout": tru': "Not JSON",
        "[1, 2]": "JSON object",
        '{"new_checkout": "yes"}': "boolean",
        json.dumps({"new_checkout": True, "api_key": MASK}): "type the value whole",
    }
    for text, said in cases.items():
        for step in ("review", "save"):
            fields = {"csrf_token": token, "base": base.group(1), "value": text}
            page = client.post(f"/ns/shop/c/flags/{step}", data=fields)
            assert page.status_code == 400, (text, step)
            assert said in html.unescape(page.text), (text, step)
        check = client.post("/ns/shop/c/flags/check", data={"csrf_token": token, "value": text})
        assert check.json()["ok"] is False
    assert stored(store, "flags") == {"new_checkout": False}


def test_a_schema_error_never_shows_a_secret(client: TestClient, store: Confo) -> None:
    store.set_schema("db", {"properties": {"password": {"type": "string", "maxLength": 20}}})
    page = client.get("/ns/shop/c/db").text
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    typed = "typed-secret-far-too-long-for-it"
    text = json.dumps({"host": "db.internal", "port": 5432, "password": typed})
    fields = {"csrf_token": csrf(page), "base": base.group(1), "value": text}
    said = client.post("/ns/shop/c/db/check", data=fields).json()["error"]
    assert "maxLength" in said
    assert typed not in said
    for step in ("review", "save"):
        answer = client.post(f"/ns/shop/c/db/{step}", data=fields)
        error = re.search(r'<p class="error" id="error">(.*?)</p>', answer.text, re.S)
        assert error, step
        assert "maxLength" in error.group(1), step
        assert typed not in error.group(1), step  # only in the editor: the user's own text
        assert SECRET not in answer.text, step


def test_forged_writes_and_read_only_are_refused(client: TestClient, store: Confo) -> None:
    value = json.dumps({"new_checkout": True})
    forged = {"base": "", "value": value}
    assert client.post("/ns/shop/c/flags/save", data=forged).status_code == 403
    wrong = {**forged, "csrf_token": "0" * 64}
    assert client.post("/ns/shop/c/flags/save", data=wrong).status_code == 403
    token = csrf(client.get("/ns/shop/c/flags").text)
    elsewhere = client.post(
        "/ns/shop/c/flags/save",
        data={**forged, "csrf_token": token},
        headers={"origin": "http://evil.example"},
    )
    assert elsewhere.status_code == 403
    assert stored(store, "flags") == {"new_checkout": False}
    token = csrf(client.get("/").text)
    forged_delete = {"csrf_token": token, "confirm": "shop", "base": ""}
    for path in ("/ns/shop/delete", "/ns/shop/c/flags/delete", "/namespaces"):
        assert client.post(path, data={"confirm": "shop"}).status_code == 403, path
        answer = client.post(path, data=forged_delete, headers={"origin": "http://evil.example"})
        assert answer.status_code == 403, path
    assert sorted(store.get_namespaces()["all_namespaces"]) == ["shop"]
    with client_for(store, read_only=True) as reader:
        reader.post("/login", data={"token": TOKEN})
        page = reader.get("/ns/shop/c/flags").text
        assert "read-only" in page
        fields = {"csrf_token": csrf(page), "base": "", "value": value}
        for step in ("save", "review", "schema", "delete"):
            assert reader.post(f"/ns/shop/c/flags/{step}", data=fields).status_code == 403
        assert "Delete" not in page
        fields = {"csrf_token": csrf(page), "name": "new", "confirm": "shop"}
        assert reader.post("/namespaces", data=fields).status_code == 403
        assert reader.post("/ns/shop/delete", data=fields).status_code == 403
        assert reader.get("/ns/shop/rollback/x").status_code in (200, 400, 404)
    assert stored(store, "flags") == {"new_checkout": False}


def test_a_body_over_the_bound_is_refused(client: TestClient) -> None:
    big = {"csrf_token": "x", "value": "x" * (MAX_BODY + 1)}
    assert client.post("/ns/shop/c/flags/save", data=big).status_code == 413


def test_history_and_rollback_with_confirmation(client: TestClient, store: Confo) -> None:
    store.set("flags", {"new_checkout": True})
    store.persist(message="turn it on")
    records = store.namespace("shop").history("flags", 10)
    first = records[-1].id
    history = client.get("/ns/shop/history").text
    assert "turn it on" in history
    assert "first" in history
    confirm = client.get(f"/ns/shop/rollback/{first}")
    assert confirm.status_code == 200
    assert "new_checkout" in confirm.text
    assert stored(store, "flags") == {"new_checkout": True}  # asking writes nothing
    done = client.post(
        f"/ns/shop/rollback/{first}", data={"csrf_token": csrf(confirm.text), "message": "undo"}
    )
    assert done.status_code == 200
    assert stored(store, "flags") == {"new_checkout": False}
    assert store.namespace("shop").history("flags", 1)[0].message == "undo"


def test_a_configuration_is_deleted_after_confirmation_and_recorded(
    client: TestClient, store: Confo
) -> None:
    confirm = client.get("/ns/shop/c/db/delete")
    assert confirm.status_code == 200
    assert "db.internal" in confirm.text
    assert SECRET not in confirm.text
    assert stored(store, "db") is not None  # asking deletes nothing
    base = re.search(r'name="base" value="([^"]*)"', confirm.text)
    assert base
    fields = {"csrf_token": csrf(confirm.text), "base": base.group(1), "message": "retired"}
    done = client.post("/ns/shop/c/db/delete", data=fields)
    assert done.status_code == 200
    assert "Deleted db" in done.text
    assert stored(store, "db") is None
    record = store.namespace("shop").history("db", 1)[0]
    assert (record.message, record.changes["db"]["after"]) == ("retired", None)
    assert client.get("/ns/shop/c/db/delete").status_code == 400  # gone: the page says so


def test_a_delete_of_a_configuration_changed_meanwhile_is_refused(
    client: TestClient, store: Confo
) -> None:
    confirm = client.get("/ns/shop/c/flags/delete").text
    base = re.search(r'name="base" value="([^"]*)"', confirm)
    assert base
    store.set("flags", {"new_checkout": "theirs"})
    store.persist()
    answer = client.post(
        "/ns/shop/c/flags/delete", data={"csrf_token": csrf(confirm), "base": base.group(1)}
    )
    assert answer.status_code == 409
    assert "theirs" in answer.text  # what it holds now, to confirm again or not
    assert stored(store, "flags") == {"new_checkout": "theirs"}


def test_namespaces_are_created_and_deleted_only_when_their_name_is_typed(
    client: TestClient, store: Confo
) -> None:
    home = client.get("/").text
    made = client.post("/namespaces", data={"csrf_token": csrf(home), "name": "billing"})
    assert made.status_code == 200
    assert "Created the namespace" in made.text
    assert "billing" in store.get_namespaces()["all_namespaces"]
    bad = client.post("/namespaces", data={"csrf_token": csrf(home), "name": "a/b"})
    assert bad.status_code == 400
    assert "a/b" in html.unescape(bad.text)
    confirm = client.get("/ns/shop/delete")
    assert "db" in confirm.text
    assert "flags" in confirm.text
    wrong = client.post("/ns/shop/delete", data={"csrf_token": csrf(confirm.text), "confirm": "x"})
    assert wrong.status_code == 400
    assert "shop" in store.get_namespaces()["all_namespaces"]
    gone = client.post(
        "/ns/shop/delete", data={"csrf_token": csrf(confirm.text), "confirm": "shop"}
    )
    assert gone.status_code == 200
    assert "Deleted the namespace shop" in gone.text
    assert sorted(store.get_namespaces()["all_namespaces"]) == ["billing"]


def test_saves_of_several_people_at_once_are_each_written_or_refused(
    client: TestClient, store: Confo
) -> None:
    """Requests run side by side on one manager: a save's reload must not drop another's edit
    between its set and its persist, which then wrote nothing and still said "saved"."""
    page = client.get("/ns/shop/c/new").text
    token = csrf(page)

    def save(n: int) -> int:
        fields = {"csrf_token": token, "base": "", "value": json.dumps({"n": n})}
        return client.post(f"/ns/shop/c/c{n}/save", data=fields, follow_redirects=False).status_code

    def view(n: int) -> int:  # every page reads the store afresh: a reload of the namespace
        return client.get("/ns/shop" if n % 2 else "/ns/shop/c/db").status_code

    with ThreadPoolExecutor(8) as pool:
        saved = [pool.submit(save, n) for n in range(40)]
        viewed = [pool.submit(view, n) for n in range(40)]
        answers = [future.result() for future in saved]
    assert answers == [303] * 40
    assert [future.result() for future in viewed] == [200] * 40
    handle = store.namespace("shop")
    handle.reload()
    assert {f"c{n}": handle.get(f"c{n}", default=None) for n in range(40)} == {
        f"c{n}": {"n": n} for n in range(40)
    }


def test_a_schema_is_shown_and_edited(client: TestClient, store: Confo) -> None:
    page = client.get("/ns/shop/c/flags/schema").text
    schema = json.dumps({"properties": {"new_checkout": {"type": "boolean"}}})
    saved = client.post(
        "/ns/shop/c/flags/schema", data={"csrf_token": csrf(page), "schema": schema}
    )
    assert saved.status_code == 200
    assert store.get_schema("flags") == json.loads(schema)
    failing = json.dumps({"properties": {"new_checkout": {"type": "string"}}})
    refused = client.post(
        "/ns/shop/c/flags/schema", data={"csrf_token": csrf(page), "schema": failing}
    )
    assert refused.status_code == 400
    assert store.get_schema("flags") == json.loads(schema)


def test_a_schema_shows_no_secret_and_a_save_keeps_the_hidden_values(
    client: TestClient, store: Confo
) -> None:
    """A schema may hold a secret field's value (its const, default, enum, examples, or a
    default object's password): shown masked, kept when the mask is saved back."""
    schema = {
        "properties": {
            "host": {"type": "string", "default": "db.internal"},
            "port": {"type": "integer"},
            "password": {"type": "string", "minLength": 8, "enum": [SECRET, "other-canary"]},
            "replica": {"type": "object", "default": {"host": "r1", "password": SECRET}},
        },
        "examples": [{"password": SECRET}],
    }
    store.set_schema("db", schema)
    for path in ("/ns/shop/c/db/schema", "/ns/shop/c/db"):
        page = client.get(path).text
        assert SECRET not in page, path
        assert "other-canary" not in page, path
        assert "minLength" in page, path  # the rest stays readable
        assert "db.internal" in page, path
    page = client.get("/ns/shop/c/db/schema").text
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert textarea
    shown = json.loads(html.unescape(textarea[1]))
    shown["properties"]["port"]["minimum"] = 1
    saved = client.post(
        "/ns/shop/c/db/schema", data={"csrf_token": csrf(page), "schema": json.dumps(shown)}
    )
    assert saved.status_code == 200
    schema["properties"]["port"]["minimum"] = 1
    assert store.get_schema("db") == schema
    editor = client.get("/ns/shop/c/db").text
    typo = {"host": "db.internal", "port": 5432, "password": "a-typo-of-it"}
    fields = {"csrf_token": csrf(editor), "base": "", "value": json.dumps(typo)}
    said = client.post("/ns/shop/c/db/check", data=fields).json()["error"]
    assert "is not one of" in said  # the schema's error, quoting its enum...
    assert SECRET not in said  # ...masked
    assert "other-canary" not in said
    review = client.post("/ns/shop/c/db/review", data=fields).text
    assert SECRET not in review
    assert "other-canary" not in review
    shown["properties"]["host"]["const"] = MASK  # a mask where nothing was hidden
    refused = client.post(
        "/ns/shop/c/db/schema", data={"csrf_token": csrf(page), "schema": json.dumps(shown)}
    )
    assert refused.status_code == 400
    assert "properties.host.const" in html.unescape(refused.text)
    assert store.get_schema("db") == schema


def test_a_new_configuration_with_an_unusual_name(client: TestClient, store: Confo) -> None:
    name = "tarifs & frais ü?"
    found = client.get("/ns/shop", params={"name": name})
    assert found.status_code == 200  # the "new configuration" form, redirected to its editor
    editor = found.text
    assert "(new)" in editor
    fields = {"csrf_token": csrf(editor), "base": "", "value": '{"eur": 1}'}
    saved = client.post(f"/ns/shop/c/{quote(name, '')}/save", data=fields)
    assert saved.status_code == 200
    assert "Saved" in saved.text
    assert stored(store, name) == {"eur": 1}


def test_store_errors_and_odd_names_never_show_a_secret(client: TestClient, store: Confo) -> None:
    store.set("keys", {"api_keys": ["AKIA-canary-1"], "secrets": {"x": "nested-canary-2"}})
    store.persist()
    for url in ("/ns/shop", "/ns/shop/c/keys", "/ns/shop/export", "/ns/shop/history"):
        page = client.get(url).text
        assert "AKIA-canary-1" not in page, url
        assert "nested-canary-2" not in page, url
    # A schema the stored secret fails: set_schema refuses it, naming the value; masked.
    page = client.get("/ns/shop/c/db/schema").text
    schema = json.dumps({"properties": {"password": {"type": "integer"}}})
    refused = client.post("/ns/shop/c/db/schema", data={"csrf_token": csrf(page), "schema": schema})
    assert refused.status_code == 400
    assert "integer" in refused.text
    assert SECRET not in refused.text
    # A rollback that its schema refuses: the old secret must not appear in the error.
    first = store.namespace("shop").history("db", 10)[-1].id
    store.set("db", {"host": "db.internal", "port": 5432, "password": "hunter3-new"})
    store.persist()
    store.set_schema("db", {"properties": {"password": {"pattern": "^hunter3"}}})
    for method in ("GET", "POST"):
        answer = client.request(
            method, f"/ns/shop/rollback/{first}", data={"csrf_token": csrf(page)}
        )
        assert answer.status_code == 400, method
        assert SECRET not in answer.text, method


def test_a_rollback_refused_by_a_schema_never_shows_the_schema_s_hidden_values(
    client: TestClient, store: Confo
) -> None:
    """The schema's enum of passwords is masked on its page; the rollback's error quoting it
    ("not one of [...]") must mask it too."""
    first = store.namespace("shop").history("db", 10)[-1].id
    store.set("db", {"host": "db.internal", "port": 5432, "password": "pw-prod"})
    store.persist()
    allowed = {"enum": ["pw-prod", "pw-stage-canary"]}
    store.set_schema("db", {"properties": {"password": allowed}})
    page = client.get("/ns/shop/c/db/schema").text
    assert "pw-stage-canary" not in page
    for method in ("GET", "POST"):
        answer = client.request(
            method, f"/ns/shop/rollback/{first}", data={"csrf_token": csrf(page)}
        )
        assert answer.status_code == 400, method
        assert "not one of" in html.unescape(answer.text), method
        assert "pw-stage-canary" not in answer.text, method
        assert MASK in answer.text, method


def test_a_url_s_password_is_masked_on_every_page_revealed_and_kept_on_save(
    client: TestClient, store: Confo
) -> None:
    url = "postgres://app:pg-canary-9@db.internal/shop"
    store.set("conn", {"DATABASE_URL": url, "pool": 5})
    store.persist()
    for page in ("/ns/shop", "/ns/shop/c/conn", "/ns/shop/history", "/ns/shop/export"):
        assert "pg-canary-9" not in client.get(page).text, page
    assert client.get("/ns/shop/c/conn/reveal?path=DATABASE_URL").json() == {"value": url}
    editor = client.get("/ns/shop/c/conn").text
    base = re.search(r'name="base" value="([^"]*)"', editor)
    assert base
    shown = {"DATABASE_URL": f"postgres://app:{MASK}@db.internal/shop", "pool": 6}
    fields = {"csrf_token": csrf(editor), "base": base.group(1), "value": json.dumps(shown)}
    assert client.post("/ns/shop/c/conn/save", data=fields).status_code == 200
    assert stored(store, "conn") == {"DATABASE_URL": url, "pool": 6}


def test_a_missing_namespace_is_a_404_in_the_console_s_words(client: TestClient) -> None:
    for url in ("/ns/nowhere", "/ns/nowhere/c/db", "/ns/nowhere/history"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "no namespace 'nowhere'" in html.unescape(page.text), url
        assert "create_namespace" not in page.text, url


def test_json_nested_too_deeply_is_a_message(client: TestClient) -> None:
    editor = client.get("/ns/shop/c/flags").text
    deep = "[" * 100_000 + "]" * 100_000
    answer = client.post("/ns/shop/c/flags/check", data={"csrf_token": csrf(editor), "value": deep})
    assert answer.json() == {
        "ok": False,
        "error": "Not JSON this console reads: it is nested too deeply.",
    }
    review = client.post(
        "/ns/shop/c/flags/review", data={"csrf_token": csrf(editor), "base": "", "value": deep}
    )
    assert review.status_code == 400
