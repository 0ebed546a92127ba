"""``/dashboard`` in headless Chromium (Debian's chromium and chromedriver, driven by Selenium):
log in with a key, see an invocation arrive live, open its timeline, re-run it; the screenshot
the README shows is saved as docs/dashboard.png."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from streams.settings import Settings
from tests.support.client import new_client
from tests.support.stack import API, ROOT

pytestmark = pytest.mark.integration

SCREENSHOT = ROOT / "docs" / "dashboard.png"
HELLO = "def main(args):\n    return {'greeting': 'Hello ' + args.get('name', 'World')}\n"
DEADLINE_S = 60


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Chromium; quit after the module."""
    subprocess.run([str(ROOT / "scripts" / "browser.sh"), "install"], check=True, timeout=600)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1000")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def call(key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{API}/api/v1/namespaces/_/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": "Basic " + b64encode(key.encode()).decode(),
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=120) as resp:
        return resp.status, json.loads(resp.read())


def shown(driver: WebDriver, css: str, text: str | None = None) -> Any:
    """Wait until an element matching ``css`` (holding ``text``) is on the page; return it."""

    def found(d: WebDriver) -> Any:
        for element in d.find_elements(By.CSS_SELECTOR, css):
            if text is None or text in element.text:
                return element
        return False

    return WebDriverWait(driver, DEADLINE_S).until(found, f"{css} holding {text!r}")


async def fresh_subject(stack: Settings) -> tuple[str, str]:
    async with aiohttp.ClientSession() as session:
        me = await new_client(stack, session)
    return me.key, me.namespace


def test_the_dashboard_shows_an_invocation_live_and_its_timeline(
    stack: Settings, browser: WebDriver
) -> None:
    key, namespace = asyncio.run(fresh_subject(stack))
    status, _ = call(
        key, "PUT", "actions/hello?overwrite=true", {"exec": {"kind": "python:3.11", "code": HELLO}}
    )
    assert status == 200

    browser.get(f"{API}/dashboard")
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.ID, "login-button").click()
    shown(browser, "#who", namespace)
    shown(browser, "#tail-state", "(live)")
    shown(browser, "#invokers tbody tr", "healthy")

    status, invoked = call(key, "POST", "actions/hello?blocking=true", {"name": "Ada"})
    assert status == 200 and invoked["response"]["result"] == {"greeting": "Hello Ada"}
    activation_id = invoked["activationId"]

    completed = shown(
        browser, f'#tail tr[data-activation="{activation_id}"][data-type="completed"]'
    )
    # hello's container, warm or (after the test stack's 3 s) paused, in the invoker's row.
    WebDriverWait(browser, DEADLINE_S).until(
        lambda d: re.search(
            r"(warm|paused) [1-9]", d.find_element(By.CSS_SELECTOR, "#invokers tbody tr").text
        ),
        "hello's container in the invokers table",
    )
    assert "success" in completed.text and "hello" in completed.text
    row = shown(browser, '#actions tr[data-action="hello"]')
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    assert cells[:3] == ["hello", "1", "0"] and cells[5] == "1"  # one run, no error, a cold start

    completed.click()
    shown(browser, "#timeline-id", activation_id)
    shown(browser, "#trail li[data-type='activation.completed']")
    trail = [
        li.get_attribute("data-type") for li in browser.find_elements(By.CSS_SELECTOR, "#trail li")
    ]
    assert trail[0] == "activation.accepted" and trail[-1] == "activation.completed"
    assert "activation.started" in trail
    segments = {
        s.get_attribute("class") for s in browser.find_elements(By.CSS_SELECTOR, "#timeline div")
    }
    assert {"seg-wait", "seg-init", "seg-run"} <= segments
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))

    browser.find_element(By.ID, "rerun").click()
    rerun = shown(browser, "#rerun-result", "re-run as ")
    rerun_id = rerun.text.removeprefix("re-run as ").strip()
    assert rerun_id != activation_id
    shown(browser, f'#tail tr[data-activation="{rerun_id}"][data-type="completed"]')
