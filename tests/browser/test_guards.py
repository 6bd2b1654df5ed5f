"""The guards of the browser tests can fail: on hand-written pages, the watched page
records console errors, failed asserts, uncaught exceptions, unhandled rejections and
dialogs, and blocks and records every request off the loopback interface."""

from __future__ import annotations

import urllib.request

import pytest
from harness import StaticServer

pytestmark = pytest.mark.slow

PAGES = {
    "clean.html": "<!doctype html><title>clean</title><p id='p'>hello</p>",
    "console.html": """<!doctype html><script>
        console.log("just a log");
        console.error("boom", 42);
        console.assert(1 === 2, "sums differ");
        console.assert(true, "never shown");
    </script>""",
    "throws.html": """<!doctype html><script>
        window.before = true;
        throw new Error("bad");
    </script><script>window.after = true;</script>""",
    "rejects.html": """<!doctype html><script>
        Promise.reject(new Error("rejected promise"));
    </script>""",
    "dialogs.html": """<!doctype html><script>
        alert(1);
        window.confirmed = confirm("sure?");
        window.after = true;
    </script>""",
    "offline.html": """<!doctype html>
        <script src="https://example.com/x.js" onerror="window.byName='error'"
                onload="window.byName='loaded'"></script>
        <script src="http://192.0.2.1/y.js" onerror="window.byAddress='error'"
                onload="window.byAddress='loaded'"></script>
        <script>
          const ws = new WebSocket("wss://example.com/socket");
          ws.onopen = () => { window.socket = 'open'; };
          ws.onclose = () => { window.socket = 'closed'; };
          fetch("https://example.com/data.json").then(() => { window.fetched = 'yes'; },
                                                      () => { window.fetched = 'no'; });
        </script>""",
}

#: Each page that something is wrong with, and what its watched page holds.
BAD_PAGES = {
    "console.html": "errors",
    "throws.html": "exceptions",
    "rejects.html": "exceptions",
    "dialogs.html": "dialogs",
    "offline.html": "blocked",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """The hand-written pages, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("site")
    for name, html in PAGES.items():
        (root / name).write_text(html, encoding="utf-8")
    with StaticServer(root) as server:
        yield server


def test_static_server_serves_the_folder_on_the_loopback(site):
    assert site.url("clean.html") == f"http://127.0.0.1:{site.port}/clean.html"
    assert site.url("a b/ü.html").endswith("/a%20b/%C3%BC.html")
    with urllib.request.urlopen(site.url("clean.html"), timeout=5) as response:
        assert b"hello" in response.read()
        assert response.headers["Cache-Control"] == "no-store"


def test_clean_page_records_nothing_wrong(open_page, site):
    watched = open_page(site.url("clean.html"))
    assert watched.page.text_content("#p") == "hello"
    watched.assert_clean()
    assert watched.requests[0] == site.url("clean.html")
    assert all(url.startswith(site.url()) for url in watched.requests), watched.requests


def test_console_errors_and_failed_asserts_are_recorded(open_page, site):
    watched = open_page(site.url("console.html"))
    watched.settle()
    assert any(e.startswith("boom 42 (") for e in watched.errors), watched.errors  # (where)
    assert any("sums differ" in e for e in watched.errors), watched.errors
    assert not any("never shown" in e for e in watched.errors)
    assert not any("just a log" in e for e in watched.errors)
    assert "log: just a log" in watched.console


def test_uncaught_exception_is_recorded(open_page, site):
    watched = open_page(site.url("throws.html"))
    assert watched.page.evaluate("window.before === true && window.after === true")
    assert watched.exceptions == ["Error: bad"]


def test_unhandled_rejection_is_recorded(open_page, site):
    watched = open_page(site.url("rejects.html"))
    watched.settle(50)
    assert any("rejected promise" in e for e in watched.exceptions), watched.exceptions


def test_dialogs_are_recorded_and_dismissed(open_page, site):
    watched = open_page(site.url("dialogs.html"), timeout=10)
    assert watched.dialogs == ["alert: 1", "confirm: sure?"]
    assert watched.page.evaluate("window.after") is True
    assert watched.page.evaluate("window.confirmed") is False  # dismissed, not accepted
    # a dialog opened by a later call does not block it either
    assert watched.page.evaluate("prompt('name?'); 5") == 5
    assert watched.dialogs[-1] == "prompt: name?"


def test_requests_off_the_loopback_are_blocked(open_page, site):
    watched = open_page(site.url("offline.html"),
                        wait_for="window.socket && window.fetched", timeout=10)
    page = watched.page
    assert page.evaluate("[window.byName, window.byAddress]") == ["error", "error"]
    assert page.evaluate("[window.socket, window.fetched]") == ["closed", "no"]
    off = ["https://example.com/x.js", "http://192.0.2.1/y.js", "wss://example.com/socket",
           "https://example.com/data.json"]
    assert sorted(watched.blocked) == sorted(off)
    for url in off[:2]:
        assert url in watched.requests
        assert any(f.startswith(url + " (net::ERR_") for f in watched.failed), watched.failed
        assert any(url in e for e in watched.errors), watched.errors


@pytest.mark.parametrize("name", sorted(BAD_PAGES))
def test_assert_clean_fails_on_a_bad_page(open_page, site, name):
    watched = open_page(site.url(name), timeout=10)
    with pytest.raises(AssertionError):
        watched.assert_clean()
    assert BAD_PAGES[name] in watched.problems(), watched.problems()
