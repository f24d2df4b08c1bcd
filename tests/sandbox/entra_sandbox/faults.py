"""Seeded fault injection: latency, latency spikes and rules matched by method + path.

Profile (JSON):
{"seed": 7, "latency_ms": 20, "spikes": {"probability": 0.01, "max_seconds": 2.0},
 "rules": [{"method": "POST", "path": "/restart$", "batch_only": false,
            "probability": 0.1 | "count": 3,
            "fault": "status" | "reset" | "lost_response" | "malformed" | "token_expired",
            "status": 429 | 503 | 500, "retry_after": 1.5 | [0.05, 0.5]}]}
A rule with "count" fires on the next N matching requests; with "probability" on that share of them.
retry_after: seconds (fractional allowed), or [low, high] for a seeded random fraction in that range, or absent for
a random one in [0.05, 3.0].
"""

import random
import re
from collections import Counter

FAULT_KINDS = ("status", "reset", "lost_response", "malformed", "token_expired")


class Rule:
    __slots__ = ("method", "path", "batch_only", "probability", "remaining", "fault", "status", "retry_after", "text")

    def __init__(self, spec):
        self.text = dict(spec)
        self.fault = spec.get("fault", "status")
        if self.fault not in FAULT_KINDS:
            raise ValueError("fault must be one of %s" % ", ".join(FAULT_KINDS))
        self.method = spec.get("method", "*").upper()
        self.path = re.compile(spec.get("path", ".*"))
        self.batch_only = bool(spec.get("batch_only", False))
        self.probability = float(spec.get("probability", 1.0))
        self.remaining = int(spec["count"]) if spec.get("count") is not None else None
        self.status = int(spec.get("status", 429))
        if self.fault == "status" and self.status not in (429, 500, 503):
            raise ValueError("status faults are 429, 500 or 503")
        self.retry_after = spec.get("retry_after")
        if isinstance(self.retry_after, (list, tuple)):
            low, high = (float(value) for value in self.retry_after)
            if not 0 <= low <= high:
                raise ValueError("retry_after [low, high] needs 0 <= low <= high")
            self.retry_after = (low, high)

    def matches(self, method, path, in_batch):
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.batch_only and not in_batch:
            return False
        return self.method in ("*", method) and self.path.search(path) is not None

    def to_dict(self):
        return dict(self.text, remaining=self.remaining)


class Faults:
    def __init__(self, profile=None, default_seed=0):
        self.default_seed = default_seed
        self.injected = Counter()
        self.configure(profile or {})

    def configure(self, profile):
        """Replace the whole profile (rules, latency, spikes) and reseed."""
        rules = [Rule(spec) for spec in profile.get("rules", ())]
        spikes = profile.get("spikes") or {}
        self.latency = max(0.0, float(profile.get("latency_ms", 0))) / 1000.0
        self.spike_probability = float(spikes.get("probability", 0.0))
        self.spike_max = float(spikes.get("max_seconds", 0.0))
        self.seed = profile.get("seed", self.default_seed)
        self.rng = random.Random(self.seed)
        self.rules = rules

    def profile(self):
        return {
            "seed": self.seed,
            "latency_ms": self.latency * 1000.0,
            "spikes": {"probability": self.spike_probability, "max_seconds": self.spike_max},
            "rules": [rule.to_dict() for rule in self.rules],
        }

    def delay(self):
        """Seconds to wait before answering a Graph call."""
        delay = self.latency
        if self.spike_probability and self.rng.random() < self.spike_probability:
            self.injected["latency_spike"] += 1
            delay += self.rng.uniform(0.0, self.spike_max)
        return delay

    def pick(self, method, path, in_batch):
        """The first rule that fires for this request (and is consumed), or None."""
        for rule in self.rules:
            if not rule.matches(method, path, in_batch):
                continue
            if rule.remaining is None and self.rng.random() >= rule.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
            self.injected[self.label(rule)] += 1
            return rule
        return None

    def retry_after(self, rule):
        if isinstance(rule.retry_after, tuple):
            return round(self.rng.uniform(*rule.retry_after), 3)
        if rule.retry_after is not None:
            return float(rule.retry_after)
        return round(self.rng.uniform(0.05, 3.0), 3)

    @staticmethod
    def label(rule):
        return "status_%d" % rule.status if rule.fault == "status" else rule.fault
