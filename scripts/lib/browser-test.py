"""The web console in a real browser (issue 14): headless Chromium from Debian, driven by Selenium, against a running
`pixl-imaging serve` on the lab (scripts/browser starts it). Logs in with the token, checks a project's progress against
/status, pauses and resumes a lane (checked through /lanes), opens a job from the failures table (identifiers hidden),
downloads the project's report, and with --screenshots saves the console at three sizes under docs/.

  python3 scripts/lib/browser-test.py URL TOKEN STUDIES_JSON OUT_DIR [--screenshots]
"""
import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL, TOKEN, STUDIES, OUT = sys.argv[1:5]
SCREENSHOTS = "--screenshots" in sys.argv
PROJECT = "console-demo"


def api(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(URL + path, data=data, method=method,
                                     headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def until(what, condition, limit=60):
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"browser test: timed out waiting until {what}")
        time.sleep(0.1)


def check(condition, what):
    if not condition:
        raise SystemExit(f"browser test: {what}")
    print(f"browser test: ok: {what}", flush=True)


# A small cohort: two VNA studies, a NEARLINE one and one no archive has.
studies = json.load(open(STUDIES))
messages = []
for key in ("vna-single", "vna-multi", "pacs-nearline"):
    study = studies[key]
    messages.append({"mrn": study["mrn"], "accession_number": study["accession_number"], "study_uid": study["study_uid"],
                     "study_date": "2024-01-02", "procedure_occurrence_id": 1, "project_name": PROJECT,
                     "extract_generated_timestamp": "2026-11-29T09:00:00+00:00"})
messages.append(dict(messages[0], mrn="CONSOLE-MRN-9", accession_number="CONSOLE-ACC-9", study_uid="2.25.880001"))
api("POST", "/messages", messages)
counts = until("the cohort ends", lambda: (lambda c: c if c.get("succeeded", 0) + c.get("discarded", 0) == 4 else None)(
    api("GET", "/status")["projects"].get(PROJECT, {})))

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
    options.add_argument(argument)
downloads = os.path.abspath(os.path.join(OUT, "downloads"))
os.makedirs(downloads, exist_ok=True)
options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(URL + "/ui")
    check(driver.current_url.endswith("/ui/login"), "the console asks to log in")
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    driver.find_element(By.ID, "login").click()
    until("the dashboard", lambda: driver.current_url.endswith("/ui") and driver.find_elements(By.CSS_SELECTOR, f'tr.project[data-project="{PROJECT}"]'))

    row = driver.find_element(By.CSS_SELECTOR, f'tr.project[data-project="{PROJECT}"]')
    shown = {span.get_attribute("data-state"): int(span.text.split()[-1]) for span in row.find_elements(By.CSS_SELECTOR, ".counts span[data-state]")}
    check(shown.get("succeeded") == counts.get("succeeded", 0) and shown.get("discarded") == counts.get("discarded", 0),
          f"the project's progress matches /status ({shown} against {counts})")

    def lane_paused():
        return {lane["lane"]: lane["paused"] for lane in api("GET", "/lanes")["lanes"]}["primary"]

    driver.find_element(By.CSS_SELECTOR, 'tr.lane[data-lane="primary"] button.lane-action').click()
    driver.switch_to.alert.accept()
    until("the primary lane is paused", lane_paused)
    check(driver.find_element(By.CSS_SELECTOR, 'tr.lane[data-lane="primary"]').get_attribute("data-paused") == "true", "the console shows it paused")
    driver.find_element(By.CSS_SELECTOR, 'tr.lane[data-lane="primary"] button.lane-action').click()
    driver.switch_to.alert.accept()
    until("the primary lane runs again", lambda: not lane_paused())
    check(True, "pause and resume through the console, confirmed and seen in /lanes")

    if SCREENSHOTS:
        for name, (width, height) in {"desktop": (1280, 900), "tablet": (820, 1100), "phone": (390, 844)}.items():
            driver.set_window_size(width, height)
            time.sleep(0.3)
            driver.save_screenshot(os.path.join("docs", f"console-{name}.png"))
        driver.set_window_size(1280, 900)

    driver.find_element(By.CSS_SELECTOR, "#failures a.job-link").click()
    until("a job's page", lambda: "/ui/jobs/" in driver.current_url)
    page = driver.find_element(By.ID, "job").text
    check("(hidden)" in page and not any(m["mrn"] in page for m in messages), "the job's page hides its MRN and accession number")
    if SCREENSHOTS:
        driver.save_screenshot(os.path.join("docs", "console-job.png"))

    driver.get(URL + "/ui")
    driver.find_element(By.CSS_SELECTOR, f'tr.project[data-project="{PROJECT}"] a[href$="/report"]').click()
    report = os.path.join(downloads, f"{PROJECT}-report.csv")

    def downloaded():
        # Chrome may show the file before it has written all of it: wait for the whole report.
        text = open(report, encoding="utf-8", newline="").read() if os.path.exists(report) else ""
        return text.strip().split("\r\n") if text.count("\r\n") == len(messages) + 1 else None

    lines = until("the report downloads", downloaded)
    check(lines[0].startswith("job_id,project_name,mrn") and {line.split(",")[1] for line in lines[1:]} == {PROJECT},
          f"the downloaded report holds a row per requested study ({len(lines) - 1})")
finally:
    driver.quit()
print("browser test: PASS")
