"""Headless Chromium (Debian's `chromium` package) for report.html: the DOM it rendered, the network requests it made,
and a screenshot. No driver and no Python dependency: Chromium's own --dump-dom, --screenshot and --log-net-log.

Used by tests/integration/test_int_report_browser.py and tests/tools/report_demo.py (make report-demo).
"""

import json
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

NAMES = ("chromium", "chromium-browser", "google-chrome")
# Quiet and alone: no sandbox (root in CI), no GPU, no QUIC, no first-run, no background requests, no component
# updates or sync; each run gets a new, empty profile (--user-data-dir).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
         "--mute-audio", "--no-default-browser-check")
SKIP_REASON = "no Chromium on this machine (apt-get install chromium): the report's browser test is skipped"


def find_chromium():
    """The path of Chromium (ENTRA_SYNC_CHROMIUM, else the first of NAMES on PATH), or None."""
    given = os.environ.get("ENTRA_SYNC_CHROMIUM")
    if given:
        return given if os.access(given, os.X_OK) else None
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(chromium, args, url, timeout):
    with tempfile.TemporaryDirectory(prefix="entra-chromium-") as profile:
        netlog = os.path.join(profile, "netlog.json")
        command = [chromium, *FLAGS, "--user-data-dir=" + os.path.join(profile, "profile"), "--log-net-log=" + netlog, *args, url]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise RuntimeError("chromium exited %d: %s" % (proc.returncode, proc.stderr[-2000:]))
        return proc.stdout, network_urls(netlog)


def network_urls(netlog_path):
    """The URLs the page requested (every request of the net log made for a document: its initiator is an origin),
    other than file:, data: and about: URLs. Chromium's own requests (updates, account checks: initiator "not an
    origin"), which the flags do not all stop, are not the page's."""
    try:
        with open(netlog_path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return []
    # Chromium may leave the file without its closing brackets when it exits at once; close them for the parser.
    try:
        log = json.loads(text)
    except ValueError:
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start_job = (log.get("constants") or {}).get("logEventTypes", {}).get("URL_REQUEST_START_JOB")
    urls = set()
    for event in log.get("events") or []:
        params = event.get("params") or {}
        url = params.get("url")
        if event.get("type") != start_job or not isinstance(url, str) or params.get("initiator") == "not an origin":
            continue
        if not url.startswith(("file:", "data:", "about:")):
            urls.add(url)
    return sorted(urls)


def dump_dom(path, timeout=60, chromium=None):
    """(the DOM Chromium rendered from the file, [network URLs requested])."""
    return _run(chromium or find_chromium(), ["--dump-dom", "--virtual-time-budget=2000"], "file://" + os.path.abspath(path), timeout)


def screenshot(path, png, width=1200, height=2000, timeout=60, dark=False, chromium=None):
    """A PNG of the page's top `height` pixels, light or dark (prefers-color-scheme). Returns the network URLs requested."""
    args = ["--screenshot=" + os.path.abspath(png), "--window-size=%d,%d" % (width, height)]
    if dark:
        args.append("--force-dark-mode")
    return _run(chromium or find_chromium(), args, "file://" + os.path.abspath(path), timeout)[1]


class _Text(HTMLParser):
    """The text of a DOM, and the titles of its SVG charts."""

    def __init__(self):
        super().__init__()
        self.parts, self.chart_titles, self.loads = [], [], []
        self._stack = []

    def handle_starttag(self, tag, attrs):
        self._stack.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data", "action") and value and not value.startswith("#"):
                self.loads.append("%s %s=%s" % (tag, name, value))

    def handle_endtag(self, tag):
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self._stack[-2:] == ["svg", "title"]:
            self.chart_titles.append(data.strip())
        elif "style" not in self._stack[-1:] and "head" not in self._stack:
            self.parts.append(data)


def read_dom(dom):
    """{text: the page's text in one line, chart_titles: [each SVG chart's <title>], loads: [attributes that load something]}."""
    parser = _Text()
    parser.feed(dom)
    return {"text": " ".join(" ".join(parser.parts).split()), "chart_titles": parser.chart_titles, "loads": parser.loads}
