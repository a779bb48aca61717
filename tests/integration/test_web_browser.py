"""The labeling page in real headless Chromium (Debian's ``chromium`` + ``chromium-driver``).

Nothing downloads a browser: Selenium is pointed at the system's ``chromedriver`` (so
selenium-manager is never run) and ``chromium``. The test skips, saying why, only when one of
them is not installed (``make install`` installs both where apt works).

Set ``AUTOAL_WEB_SCREENSHOT=docs/img/campaign-page.png`` to save the page's screenshot.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from autoal.campaign import Campaign

from support import CLASSES, image_campaign, write_png_folder

pytest.importorskip("flask")

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-extensions", "--window-size=1280,1000",
    "--force-device-scale-factor=1", "--hide-scrollbars",
)


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if os.path.isfile(name) else None)
        if found:
            return found
    return None




@pytest.fixture()
def browser(tmp_path: Path) -> Any:
    """A headless Chromium driven through Debian's chromedriver."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed: pip install -e '.[dev]' (or make install)")
    chromium = _find("chromium", "chromium-browser", "/usr/bin/chromium")
    driver_path = _find("chromedriver", "/usr/bin/chromedriver",
                        "/usr/lib/chromium/chromedriver")
    if chromium is None or driver_path is None:
        missing = " and ".join(n for n, p in (("chromium", chromium),
                                               ("chromedriver", driver_path)) if p is None)
        pytest.skip(f"no {missing} on this machine: apt-get install chromium chromium-driver "
                    "(scripts/install-system-deps.sh does this in make install)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture()
def server(tmp_path: Path) -> Any:
    """An AutoAL campaign on 45 digit PNGs (9 labels, one AutoAL round) served on a free port."""
    from autoal.campaign.web import make_server

    pytest.importorskip("autoal.search")
    # a better-trained model for the screenshot (its guesses are then worth showing)
    shot = bool(os.environ.get("AUTOAL_WEB_SCREENSHOT"))
    directory, _, truth = image_campaign(tmp_path, strategy="autoal", n=45,
                                         epochs=20 if shot else 2, min_steps=100 if shot else 0)
    with Campaign.open(directory) as c:
        c.teach({k: truth[k] for k in sorted(truth)[:9]})
        c.query(8)
    srv = make_server(directory, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}/", directory, truth
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(10)


def _wait(driver: Any, condition: Any, timeout: float = 60, what: str = "") -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        lambda d: condition(d), message=what)


def _cards(driver: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#batch .card")


def _card_state(driver: Any, i: int) -> tuple[str, str, str | None]:
    """(item id, state text, pressed label) of the i-th card, read in one script call."""
    return tuple(driver.execute_script(
        "const c = document.querySelectorAll('#batch .card')[arguments[0]];"
        "const p = c.querySelector('button[aria-pressed=\"true\"]');"
        "return [c.dataset.id, c.querySelector('.state').textContent,"
        " p ? p.dataset.label : null];", i))


def _active_index(driver: Any) -> int | None:
    return driver.execute_script(
        "const a = document.activeElement;"
        "return a && a.classList.contains('card') ? Number(a.dataset.index) : null;")


def _open(driver: Any, url: str) -> None:
    driver.get(url)
    _wait(driver, lambda d: d.execute_script("return document.body.dataset.ready === '1'"),
          what="the page did not load its state")


def test_label_by_click_and_key_reload_and_next_batch(browser, server) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    url, directory, truth = server
    driver = browser
    _open(driver, url)
    assert driver.title.startswith("autoal")
    cards = _cards(driver)
    assert len(cards) == 8
    assert driver.find_element(By.ID, "n-labeled").text == "9"
    assert driver.find_element(By.ID, "n-pending").text == "8"
    # the first item has the focus, and it is visible
    assert _active_index(driver) == 0 and "current" in cards[0].get_attribute("class")
    assert cards[0].value_of_css_property("box-shadow") not in ("", "none")
    assert cards[0].find_element(By.TAG_NAME, "img").get_property("naturalWidth") == 8
    assert cards[0].find_element(By.CSS_SELECTOR, ".guess b").text in CLASSES

    # label item 0 by clicking its class button
    first = cards[0].get_attribute("data-id")
    cards[0].find_element(By.CSS_SELECTOR, f'button[data-label="{truth[first]}"]').click()
    _wait(driver, lambda d: _card_state(d, 0)[1] == f"labeled {truth[first]}",
          what="the click was not saved")
    # the focus moved on to item 1: label it with its key (1 = first class, ...)
    _wait(driver, lambda d: _active_index(d) == 1, what="the focus did not move on")
    second = _card_state(driver, 1)[0]
    key = str(CLASSES.index(truth[second]) + 1)
    ActionChains(driver).send_keys(key).perform()
    _wait(driver, lambda d: _card_state(d, 1)[1] == f"labeled {truth[second]}",
          what="the key was not saved")
    # and skip item 2 with "s"
    _wait(driver, lambda d: _active_index(d) == 2)
    third = _card_state(driver, 2)[0]
    ActionChains(driver).send_keys("s").perform()
    _wait(driver, lambda d: _card_state(d, 2)[1] == "skipped")
    assert driver.find_element(By.ID, "n-labeled").text == "11"

    # saved at once: the database has them before any reload
    with Campaign.open(directory) as c:
        st = c.status()
    assert (st.labeled, st.skipped, st.pending) == (11, 1, 5)

    # reload: both labels and the skip are shown, and the focus is on the first pending item
    driver.refresh()
    _open(driver, url)
    assert _card_state(driver, 0) == (first, f"labeled {truth[first]}", truth[first])
    assert _card_state(driver, 1) == (second, f"labeled {truth[second]}", truth[second])
    assert _card_state(driver, 2) == (third, "skipped", "skip")
    assert _active_index(driver) == 3
    assert driver.find_element(By.ID, "n-skipped").text == "1"
    per_class = {li.get_attribute("data-class"): li.find_element(By.CLASS_NAME, "count").text
                 for li in driver.find_elements(By.CSS_SELECTOR, "#per-class li")}
    assert sum(map(int, per_class.values())) == 11 and set(per_class) == set(CLASSES)
    # the AutoAL chart shows round 1's weights
    assert driver.find_element(By.ID, "weights").is_displayed()
    assert len(driver.find_elements(By.CSS_SELECTOR, "#weights-chart rect")) >= 2

    # next batch: a query runs in the background, then the new items are shown
    old_ids = {c.get_attribute("data-id") for c in _cards(driver)}
    driver.find_element(By.ID, "next").click()
    _wait(driver, lambda d: "round 2" in d.find_element(By.ID, "round-info").text,
          what="the next batch did not arrive")
    assert not driver.find_element(By.ID, "busy").is_displayed()
    new_ids = {c.get_attribute("data-id") for c in _cards(driver)}
    assert len(new_ids) == 8 and not new_ids & {first, second, third}
    assert new_ids != old_ids
    assert _active_index(driver) == 0
    assert driver.find_element(By.ID, "n-pending").text == "8"
    bars = driver.find_elements(By.CSS_SELECTOR, "#weights-chart text.tick")
    assert {"r1", "r2"} <= {b.text for b in bars}

    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe

    target = os.environ.get("AUTOAL_WEB_SCREENSHOT")
    if target:
        _screenshot(driver, Path(target), truth)


def _screenshot(driver: Any, path: Path, truth: dict[str, str]) -> None:
    """Label two items of the new batch (to show both states) and save a small PNG."""
    from PIL import Image
    from selenium.webdriver.common.action_chains import ActionChains

    item = _card_state(driver, 0)[0]
    ActionChains(driver).send_keys(str(CLASSES.index(truth[item]) + 1)).perform()
    _wait(driver, lambda d: _active_index(d) == 1)
    ActionChains(driver).send_keys("s").perform()
    _wait(driver, lambda d: _active_index(d) == 2)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": min(int(height), 1400), "deviceScaleFactor": 1,
        "mobile": False})
    png = driver.get_screenshot_as_png()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    img = img.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=True)


@pytest.fixture()
def estimate_server(tmp_path: Path) -> Any:
    """A campaign on 60 digit PNGs after three rounds of 12 with half of each batch audited."""
    from autoal.campaign.web import make_server

    folder = tmp_path / "images"
    truth = write_png_folder(folder, 60)
    directory = tmp_path / "camp"
    with Campaign.init(directory, folder, CLASSES, strategy="margin", model="mlp", epochs=2,
                       min_steps=0, audit=0.5) as c:
        for _ in range(3):
            c.teach({i.id: truth[i.id] for i in c.query(12).items})
        c.query(12)
    srv = make_server(directory, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}/", directory
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(10)


def test_page_shows_the_estimate_the_stopping_rule_and_audit_items(browser,
                                                                  estimate_server) -> None:
    from selenium.webdriver.common.by import By

    url, directory = estimate_server
    with Campaign.open(directory) as c:
        st = c.status()
        audit = {i.id for i in c.batch().items if i.audit}
    est = st.accuracy_estimate
    assert est is not None and audit
    driver = browser
    _open(driver, url)
    assert driver.find_element(By.ID, "est-value").text == f"{est['value']:.3f}"
    assert f"random audit of {est['labels']} labels" in driver.find_element(By.ID,
                                                                             "est-detail").text
    assert driver.find_element(By.ID, "stopping").is_displayed()
    verdict = driver.find_element(By.ID, "stop-verdict").text
    assert st.stopping["rule"] in verdict and ("Keep labeling" in verdict) != st.stopping["stop"]
    assert driver.find_elements(By.CSS_SELECTOR, "#stop-chart polyline.acc")
    assert driver.find_elements(By.CSS_SELECTOR, "#stop-chart polygon.band")
    # audit items show no guess and no accept button
    for card in _cards(driver):
        is_audit = card.get_attribute("data-id") in audit
        assert bool(card.find_elements(By.CSS_SELECTOR, ".guess .audit")) == is_audit
        assert bool(card.find_elements(By.CSS_SELECTOR, "button.accept")) != is_audit
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe
