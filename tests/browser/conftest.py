"""Fixtures of the browser tests: the system Chromium driven by Playwright (never a
browser of Playwright's own: nothing runs ``playwright install``), watched pages and a
static file server on 127.0.0.1. The helpers behind them are in harness.py.

Without a Chromium (``$EQUISERVE_CHROMIUM``, else chromium, chromium-browser or
google-chrome on PATH) the tests fail on CI (``$CI`` true) and are skipped elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import (
    CHROMIUM_ARGS,
    HEIGHT,
    WIDTH,
    StaticServer,
    WatchedPage,
    find_chromium,
    run_cli,
    watch,
)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable; fails on CI when there is none, else skips."""
    exe = find_chromium()
    if exe is None:
        msg = ("no Chromium found (chromium, chromium-browser, google-chrome on PATH or "
               "$EQUISERVE_CHROMIUM); install it, e.g. apt-get install chromium")
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator:
    """One headless Chromium for the module.

    Module-scoped, not session-scoped: while Playwright's sync API runs, its event loop
    counts as running in this thread, which breaks ``asyncio.run`` in other test modules.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        b = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                       headless=True)
        yield b
        b.close()


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., WatchedPage]]:
    """``open_page(url, wait_for=None)``: load ``url`` in a fresh context (viewport
    WIDTH x HEIGHT, no service workers) and return its :class:`harness.WatchedPage` once
    the load event fired and the JavaScript expression ``wait_for`` is truthy."""
    contexts = []

    def open_(url: str, wait_for: str | None = None, timeout: float = 20.0) -> WatchedPage:
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                      device_scale_factor=1, service_workers="block")
        contexts.append(context)
        context.set_default_timeout(timeout * 1000)
        watched = watch(context)
        watched.page.goto(url)
        if wait_for is not None:
            watched.page.wait_for_function(wait_for)
        return watched

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def serve() -> Iterator[Callable[[str | os.PathLike[str]], StaticServer]]:
    """``serve(folder)``: a :class:`harness.StaticServer` of ``folder``, closed after the
    test."""
    servers: list[StaticServer] = []

    def serve_(folder: str | os.PathLike[str]) -> StaticServer:
        servers.append(StaticServer(folder))
        return servers[-1]

    yield serve_
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def report_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outputs of ``equiserve report --offline`` on the tiny study (its inputs in
    ``../in``)."""
    from equiserve.testing import write_tiny_study

    root = tmp_path_factory.mktemp("e2e")
    return run_cli("report", write_tiny_study(root / "in"), root / "out")

