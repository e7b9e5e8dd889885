"""End-to-end tests in real headless Chromium (a package, so that the browser lives only as
long as these tests: Playwright's sync API leaves an event loop running in the main thread)."""
