# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake clock that GraphClient and Pacer tests share."""

import pytest

from ansible_collections.entra.sync.plugins.module_utils._graph import client, pacing


class FakeClock:
    """Replaces the time module inside the Graph client and pacing: sleeping advances the clock and is recorded."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(client, "time", fake)
    monkeypatch.setattr(pacing, "time", fake)
    return fake
