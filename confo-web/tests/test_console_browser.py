"""The console end to end, in a real headless Chromium (Debian's chromium and chromium-driver,
through selenium), against ``confo web`` run as a process on a real file store, while another
manager writes to the same store as another service would.

The screenshots it takes are docs/console.md's pictures: the docs show what the code does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from consoletest import serve, stop
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from confo.manager import Confo

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
TOKEN = "browser-test-token-9d2e"
SECRET = "s3cr3t-canary"
WAIT = 15  # seconds a page may take to show what it must: a bound, not a benchmark


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Confo, Path]]:
    root = tmp_path / "configs"
    root.mkdir()
    manager = Confo(author="ops@shop")
    manager.load_backend({"config_path": str(root)}, "files", "file")
    manager.activate_backend("files")
    manager.create_namespace("shop")
    manager.use_namespace("shop")
    manager.set("database", {"host": "db.internal", "port": 5432, "password": SECRET})
    manager.set("checkout", {"provider": "stripe", "retries": 3})
    manager.set("feature_flags", {"new_checkout": False})
    manager.persist(message="first settings")
    manager.set_schema("checkout", {"properties": {"retries": {"type": "integer", "minimum": 0}}})
    yield manager, root
    manager.close()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium, "make test installs Debian's chromium"
    assert driver, "make test installs Debian's chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,860",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    yield session
    session.quit()


def until(browser: WebDriver, condition: Callable[[WebDriver], object]) -> None:
    try:
        WebDriverWait(browser, WAIT).until(condition)
    except Exception:
        print("the page when it failed:", browser.current_url, browser.page_source[:3000])
        raise


def shot(browser: WebDriver, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))


def type_into(browser: WebDriver, element_id: str, text: str) -> None:
    """Replace a field's text as typing would (the input event the page listens to)."""
    field = browser.find_element(By.ID, element_id)
    browser.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        field,
        text,
    )


def text_of(browser: WebDriver, selector: str) -> str:
    return str(browser.find_element(By.CSS_SELECTOR, selector).text)


def test_edit_review_save_conflict_rollback_and_live_updates(
    store: tuple[Confo, Path], browser: WebDriver
) -> None:
    other, root = store
    # Run from the store's parent, as an operator would: the header then reads file:configs.
    process, port = serve("file:configs", env={"CONFO_WEB_TOKEN": TOKEN}, cwd=root.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        # Log in: every page needs the token.
        browser.get(f"{base}/ns/shop")
        until(browser, lambda b: "/login" in b.current_url)
        shot(browser, "login")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.ID, "login").click()
        until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "ul.namespaces"))
        browser.get(f"{base}/ns/shop")
        until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#live.on"))
        assert SECRET not in browser.page_source
        # Another service changes a value: the open page shows it, live.
        other.set("feature_flags", {"new_checkout": True})
        other.persist(message="launch the new checkout")
        row = 'tr[data-config="feature_flags"] .value'
        until(browser, lambda b: '"new_checkout": true' in text_of(b, row))
        shot(browser, "namespace")
        # Edit: the schema is checked as you type, and the diff is shown before saving.
        browser.get(f"{base}/ns/shop/c/checkout")
        type_into(browser, "value", '{"provider": "stripe", "retries": -1}')
        until(browser, lambda b: "minimum" in text_of(b, "#check"))
        shot(browser, "check")
        type_into(browser, "value", '{"provider": "adyen", "retries": 5}')
        until(browser, lambda b: "passes the schema" in text_of(b, "#check"))
        browser.find_element(By.ID, "review").click()
        until(browser, lambda b: b.find_elements(By.ID, "diff"))
        assert '+  "provider": "adyen",' in text_of(browser, "#diff")
        shot(browser, "review")
        browser.find_element(By.ID, "message").send_keys("switch to adyen")
        browser.find_element(By.ID, "save").click()
        until(browser, lambda b: b.find_elements(By.ID, "done"))
        other.reload()
        assert other.get("checkout") == {"provider": "adyen", "retries": 5}
        # A conflict: someone saves while the page is open; theirs is shown, yours kept.
        browser.get(f"{base}/ns/shop/c/checkout")
        until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#live.on"))
        other.update("checkout", lambda old: {**old, "retries": 9}, message="more retries")
        until(browser, lambda b: b.find_element(By.ID, "stale").is_displayed())
        type_into(browser, "value", '{"provider": "adyen", "retries": 6}')
        browser.find_element(By.ID, "review").click()
        until(browser, lambda b: b.find_elements(By.ID, "save"))
        browser.find_element(By.ID, "save").click()
        until(browser, lambda b: b.find_elements(By.ID, "theirs"))
        assert '"retries": 9' in text_of(browser, "#theirs")
        assert '"retries": 6' in browser.find_element(By.ID, "value").get_attribute("value")
        shot(browser, "conflict")
        other.reload()
        assert other.get("checkout") == {"provider": "adyen", "retries": 9}
        # History, and a rollback with its confirmation.
        browser.get(f"{base}/ns/shop/history")
        assert "switch to adyen" in browser.page_source
        shot(browser, "history")
        first = other.namespace("shop").history(limit=50)[-1].id
        browser.get(f"{base}/ns/shop/rollback/{first}")
        until(browser, lambda b: b.find_elements(By.ID, "confirm"))
        shot(browser, "rollback")
        browser.find_element(By.ID, "message").send_keys("back to the first settings")
        browser.find_element(By.ID, "confirm").click()
        until(browser, lambda b: b.find_elements(By.ID, "done"))
        other.reload()
        assert other.get("checkout") == {"provider": "stripe", "retries": 3}
        assert other.get("database")["password"] == SECRET
        assert SECRET not in browser.page_source
    finally:
        stop(process)
    assert json.loads((root / "shop" / "feature_flags.json").read_text()) == {"new_checkout": False}
