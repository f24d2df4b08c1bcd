"""Fixtures for the sandbox's own tests (the package lives in tests/sandbox)."""

import os
import sys

import pytest

SANDBOX_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sandbox")
if os.path.abspath(SANDBOX_ROOT) not in [os.path.abspath(p) for p in sys.path]:
    sys.path.insert(0, os.path.abspath(SANDBOX_ROOT))

from entra_sandbox import pytest_plugin  # noqa: E402  pylint: disable=wrong-import-position

sandbox = pytest_plugin.sandbox
fresh_sandbox = pytest_plugin.fresh_sandbox


@pytest.fixture
def no_ca_bundle_env(monkeypatch):
    """MSAL builds its own requests.Session: REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would override its verify=."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
