"""The student's real front end: JupyterLab in headless Chromium runs notebook 04 and plays
one round of the visual Turing test.

Needs Debian's Chromium (``apt-get install chromium``; `.ci/run` installs it) and the
``playwright`` Python package (a dev dependency), pointed at the system browser: no browser
download. Skipped, with the reason, when Chromium is missing.
"""
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO

NOTEBOOK = "04-evaluating-synthetic-images"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = REPO / "build" / "browser" / "turing-test.png"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not found: `apt-get install chromium` to run the browser test")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on loopback, serving a copy of the solution notebook (FAST mode kernel)."""
    shutil.copy(REPO / "solutions" / NOTEBOOK / f"{NOTEBOOK}.ipynb", tmp_path / f"{NOTEBOOK}.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, COURSE_FAST="1", COURSE_WIDGETS="1")
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={tmp_path}", "--allow-root"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start within 60 s")
    yield f"{base}/lab/tree/{NOTEBOOK}.ipynb?token={token}"
    server.terminate()
    server.wait(timeout=20)


def test_turing_test_widget_scores_a_click_in_a_real_browser(jupyterlab):
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(jupyterlab)
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        real = page.locator(".turing-real").first
        real.wait_for(timeout=240_000)
        score = page.locator(".turing-score").first
        before = score.inner_text()
        real.scroll_into_view_if_needed()
        real.click()
        page.wait_for_function(
            "before => document.querySelector('.turing-score').innerText !== before", arg=before, timeout=20_000)
        after = score.inner_text()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".turing-test").first.screenshot(path=str(SCREENSHOT))
        page.screenshot(path=str(SCREENSHOT.with_name("jupyterlab.png")))
        browser.close()
    assert "Score: 0 / 0" in before
    assert "Score: 1 / 1" in after or "Score: 0 / 1" in after, after
    assert SCREENSHOT.stat().st_size > 1000
