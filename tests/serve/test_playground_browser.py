"""The playground in headless Chromium (Debian's chromium + chromium-driver, through selenium):
type a prompt, see the streamed continuation and its probabilities, use the similarity demo,
switch to English, and find no errors in the console. Saves a screenshot under tmp_path.

Skips when chromium or chromedriver is not installed (`.ci/run` installs them).
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="chromium and chromedriver are not installed")


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,1000", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def test_playground_streams_probabilities_and_similarity(browser, server, encoder, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 15)
    browser.get(server.url + "/")
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")
    assert browser.find_element(By.ID, "c-go").text == "Generar"  # Spanish first

    Select(browser.find_element(By.ID, "c-model")).select_by_value("gpt")
    prompt = browser.find_element(By.ID, "c-prompt")
    prompt.clear()
    prompt.send_keys("el niño come")
    Select(browser.find_element(By.ID, "c-strategy")).select_by_value("greedy")
    browser.find_element(By.ID, "c-go").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#c-out .tok")) >= 3)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#c-picture .alt"))
    token = browser.find_elements(By.CSS_SELECTOR, "#c-out .tok")[0]
    assert 0 < float(token.get_attribute("data-prob")) <= 100
    percents = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#c-picture .alt .p")]
    assert percents and all(p.endswith("%") for p in percents)
    assert browser.find_element(By.ID, "c-out").text.startswith("el niño come")

    browser.find_element(By.CSS_SELECTOR, '#tabs button[data-tab="snap"]').click()
    Select(browser.find_element(By.ID, "s-model")).select_by_value("ngram")
    box = browser.find_element(By.ID, "s-text")
    before = box.get_attribute("value")
    box.send_keys("x")
    wait.until(lambda d: d.find_element(By.ID, "s-text").get_attribute("value") != before)

    if encoder is not None:
        browser.find_element(By.CSS_SELECTOR, '#tabs button[data-tab="similarity"]').click()
        browser.find_element(By.ID, "y-go").click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#y-out td.score")))
        rows = browser.find_elements(By.CSS_SELECTOR, "#y-out tr")
        scores = [float(r.find_element(By.CSS_SELECTOR, "td.score").text) for r in rows]
        assert len(scores) == 3 and scores == sorted(scores, reverse=True)
        assert "paella" in rows[-1].text  # the unrelated sentence scores lowest

    browser.find_element(By.ID, "lang").click()
    assert browser.find_element(By.ID, "c-go").get_attribute("textContent") == "Generate"
    assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None
    browser.save_screenshot(str(tmp_path / "playground.png"))
    assert (tmp_path / "playground.png").stat().st_size > 1000
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
