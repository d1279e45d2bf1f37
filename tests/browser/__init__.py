"""The dashboard in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright against a real ``routeplan serve``. Without Chromium or Playwright every test here
skips with the reason, except in CI (``CI`` set), where they fail: CI installs Chromium
(``make browser``, a dependency of ``make test``)."""
