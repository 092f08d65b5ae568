"""The HTML report in a real browser: Debian's headless chromium, driven by
Playwright, opens the report of a real short run, and of a compare of two,
from a file: no console error, no network request, every chart drawn (a
canvas with pixels on it), and a screenshot kept in the test's tmp folder
(LOGSTORM_REPORT_SCREENSHOT=PATH copies the run's to PATH, as docs/report.png
was made)."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import orjson
import pytest

from harness.report.html import render
from tests.fixtures.common import run_cli

CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if Path(p).exists()), None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


def real_run(folder: Path, seed: int) -> Path:
    """Two paced seconds into the null and file sinks, with bad lines and thresholds."""
    done = run_cli("run", "--duration", "2", "--rate", "4000", "--sink", "null", "--sink", "file", "--path",
                   str(folder / "out"), "-b", "5", "--seed", str(seed), "-q", "--results", str(folder / "results"),
                   "--threshold", "p99 < 10s", "--threshold", "failed == 0", "--threshold", "null.p50 < 1us")
    assert done.returncode == 3, done.stderr.decode()  # null.p50 < 1us cannot be met
    return next((folder / "results" / "adhoc").glob("*.json"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("report-runs")
    return real_run(folder / "a", 1), real_run(folder / "b", 2)


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for the module's pages (each gets a fresh page)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def open_in_chromium(browser, page_path: Path, screenshot: Path) -> dict:
    """Load the page from its file; what the browser saw."""
    seen: dict = {"errors": [], "requests": []}
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.on("request", lambda r: r.url != page_path.as_uri() and seen["requests"].append(r.url))
        page.goto(page_path.as_uri(), wait_until="load")
        page.wait_for_function("document.body.dataset.chartsDrawn !== undefined", timeout=10_000)
        seen["charts"] = page.evaluate("""() => [...document.querySelectorAll('.chart')].map(box => {
            const canvas = box.querySelector('canvas');
            if (!canvas || !canvas.width || !canvas.height) return {title: box.dataset.chart, inked: 0};
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let inked = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) inked++;
            return {title: box.dataset.chart, inked};
        })""")
        seen["empty"] = page.evaluate("document.querySelectorAll('.chart.empty').length")
        page.screenshot(path=str(screenshot), full_page=False)
    finally:
        page.close()
    return seen


def check_page(seen: dict, charts: int) -> None:
    assert seen["errors"] == [] and seen["requests"] == []
    assert len(seen["charts"]) == charts
    assert all(chart["inked"] > 500 for chart in seen["charts"]), seen["charts"]


def test_report_of_a_real_run_draws_every_chart_offline(browser, runs, tmp_path):
    page = tmp_path / "report.html"
    done = run_cli("report", str(runs[0]), "-o", str(page))
    assert done.returncode == 0, done.stderr.decode()
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://cdn" not in text
    assert "null.p50 &lt; 1us" in text and "FAILED" in text  # the thresholds and their outcome
    seen = open_in_chromium(browser, page, tmp_path / "report.png")
    # per sink (null, filesystem): rate, latency over time, by percentile, failures and lag; bad lines; ring fill
    check_page(seen, charts=10)
    assert {"bad lines by kind", "null: latency by percentile", "filesystem: target and achieved rate"} <= \
        {chart["title"] for chart in seen["charts"]}
    assert (tmp_path / "report.png").stat().st_size > 10_000
    if os.environ.get("LOGSTORM_REPORT_SCREENSHOT"):
        shutil.copy(tmp_path / "report.png", os.environ["LOGSTORM_REPORT_SCREENSHOT"])


def test_compare_as_html_puts_the_charts_side_by_side_with_the_verdicts(browser, runs, tmp_path):
    done = run_cli("compare", str(runs[0]), str(runs[1]), "--format", "html")
    assert done.returncode == 0, done.stderr.decode()
    page = tmp_path / "compare.html"
    page.write_bytes(done.stdout)
    assert b"<h2>Verdicts</h2>" in done.stdout and b"throughput" in done.stdout
    seen = open_in_chromium(browser, page, tmp_path / "compare.png")
    check_page(seen, charts=20)  # each of the ten charts once per side
    assert seen["empty"] == 0


def test_an_hour_long_run_makes_a_report_under_2_mb(runs):
    """The run's own seconds, repeated to fill an hour."""
    result = orjson.loads(runs[0].read_bytes())
    records = result["series"]
    result["series"] = [{**records[i % len(records)], "t": float(i + 1)} for i in range(3600)]
    page = render([("an hour", result)])
    assert len(page.encode()) < 2 * 1024 * 1024, len(page.encode())


def sharded_run(folder: Path) -> list[Path]:
    """Two shards of one paced run from a common start, and their merge."""
    start = f"{time.time() + 1.5:.3f}"
    shards = []
    for k in (0, 1):
        done = run_cli("run", "--duration", "2", "--rate", "4000", "--sink", "null", "--seed", "4", "--shard", f"{k}/2",
                       "--start-at", start, "-q", "--results", str(folder / f"shard{k}"))
        assert done.returncode == 0, done.stderr.decode()
        shards.append(next((folder / f"shard{k}" / "adhoc").glob("*.json")))
    done = run_cli("merge", "-o", str(folder / "merged.json"), *map(str, shards))
    assert done.returncode == 0, done.stderr.decode()
    return [folder / "merged.json", *shards]


@pytest.mark.slow
def test_report_of_a_merged_run_draws_each_shard_beside_the_total(browser, tmp_path):
    page = tmp_path / "sharded.html"
    merged, *_ = sharded_run(tmp_path)
    done = run_cli("report", str(merged), "-o", str(page))  # the merged file alone holds each shard's seconds
    assert done.returncode == 0, done.stderr.decode()
    text = page.read_text()
    assert "<h3>Shards</h3>" in text and text.count("<h2>") == 2  # one run (the merge) and the charts
    labels = set(re.findall(r'"label":"([^"]+)"', text))
    assert {"total · achieved", "shard 0 · achieved", "shard 1 · achieved"} <= labels
    seen = open_in_chromium(browser, page, tmp_path / "sharded.png")
    check_page(seen, charts=5)  # null: rate, latency over time, by percentile, failures and lag; ring fill (no bad lines)


def test_report_of_find_rate_charts_latency_against_rate(browser, tmp_path):
    profile = tmp_path / "null.toml"
    profile.write_text('[profile]\ndescription = "null"\n\n[load]\nduration = 1\nseed = 2\n\n[[sinks]]\nname = "null"\n')
    done = run_cli("find-rate", str(profile), "--slo", "p99 < 10s", "--from", "2000", "--to", "4000", "--step-seconds", "2",
                   "--results", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr.decode()
    page = tmp_path / "find-rate.html"
    done = run_cli("report", str(next((tmp_path / "results" / "null-find-rate").glob("*.json"))), "-o", str(page))
    assert done.returncode == 0, done.stderr.decode()
    assert "highest sustained rate: 4,000 lines/s" in page.read_text()
    seen = open_in_chromium(browser, page, tmp_path / "find-rate.png")
    check_page(seen, charts=6)  # find-rate, null's four, ring fill
    assert seen["charts"][0]["title"].startswith("find-rate:")
