# Copyright (c) entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the credential tests: a fake clock, a certificate, and no GitHub Actions variables from the runner."""

from __future__ import annotations

import pytest

from ansible_collections.entra.sync.plugins.module_utils._auth import access_token, base
from ansible_collections.entra.sync.plugins.module_utils._settings.options import GITHUB_OIDC_ENV
from ansible_collections.entra.sync.tests.unit.plugins.module_utils._auth.helpers import Clock
from entra_sandbox.certs import self_signed_certificate


@pytest.fixture(autouse=True)
def no_github_actions_oidc(monkeypatch):
    """A GitHub runner that runs these tests may set the OIDC variables; `auto` must not see them unless a test sets them."""
    for name in GITHUB_OIDC_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    for module in (base, access_token):
        monkeypatch.setattr(module, "time", fake)
    return fake


@pytest.fixture(scope="session")
def key_and_cert():
    # 1024 bits keeps key checks fast; the size does not matter to the code under test.
    return self_signed_certificate("entra-sync-unit-test", key_size=1024, valid_days=1)
