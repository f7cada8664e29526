"""The Dagster UI, as an analytics engineer opens it: the web server starts on a free local
port and, in headless Chromium, the asset catalog lists the project's assets and groups."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from orchestration.lib.settings import PROJECT_ROOT
from tests.test_report import CHROMIUM_FLAGS, chromium

# As the catalog writes asset keys: group-like prefix / name.
EXPECTED_ASSETS = (
    "scoring / dim_leads",
    "segments / dim_lead_segments",
    "report / lead_segment_report",
    "raw / crm_contacts",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, seconds: int = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the web server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"the web server did not answer at {url} within {seconds} s")


def test_the_dagster_ui_lists_the_project_assets(tmp_path):
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    (tmp_path / "home").mkdir()
    server = subprocess.Popen(
        [
            str(bin_dir / "dagster-webserver"),
            "-m",
            "orchestration.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DAGSTER_HOME": str(tmp_path / "home"),
            "LEADSCORE_DATA_DIR": str(tmp_path),
            "PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]]),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(url, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(f"{url}/assets?view=flat", wait_until="load")
            skip = page.get_by_role("button", name="Skip")  # first-visit community dialog
            skip.wait_for(timeout=30_000)
            skip.click()
            for asset in EXPECTED_ASSETS:
                # The catalog renders rows lazily: filter it so the asset's row is on screen,
                # then look for the row's link (the search box itself echoes what was typed).
                # A fresh page per asset, because an applied filter stays.
                page.goto(f"{url}/assets?view=flat", wait_until="load")
                search = page.get_by_label("Search and filter assets")
                search.fill(asset.split(" / ")[1])
                search.press("Enter")
                page.locator("a", has_text=asset).first.wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "dagster-ui.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
