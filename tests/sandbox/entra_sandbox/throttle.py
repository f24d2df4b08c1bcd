"""Token buckets per (app, tenant): one for reads, one for writes (graph-facts.md "Throttling")."""

import time

# Published identity limits per app and tenant: 3,000 writes per 150 s; about 3,500 reads per 10 s.
DEFAULTS = {"enabled": True, "reads": {"rate": 350.0, "burst": 3500}, "writes": {"rate": 20.0, "burst": 3000}}


class Bucket:
    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate, burst, now):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now):
        """Take one token; return 0.0, or the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class Throttle:
    def __init__(self, config=None, clock=time.monotonic):
        self._clock = clock
        self.configure(config or DEFAULTS)

    def configure(self, config):
        """Replace the limits (buckets start full again). Missing keys keep the published defaults."""
        merged = {
            "enabled": bool(config.get("enabled", True)),
            "reads": dict(DEFAULTS["reads"], **config.get("reads", {})),
            "writes": dict(DEFAULTS["writes"], **config.get("writes", {})),
        }
        for kind in ("reads", "writes"):
            if float(merged[kind]["rate"]) <= 0 or float(merged[kind]["burst"]) < 1:
                raise ValueError("%s needs rate > 0 and burst >= 1" % kind)
        self.config = merged
        self._buckets = {}

    def check(self, app_id, tenant_id, write):
        """Return None when allowed, else the Retry-After seconds (a float)."""
        if not self.config["enabled"]:
            return None
        kind = "writes" if write else "reads"
        key = (app_id, tenant_id, kind)
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            spec = self.config[kind]
            bucket = self._buckets[key] = Bucket(float(spec["rate"]), float(spec["burst"]), now)
        wait = bucket.take(now)
        return wait or None
