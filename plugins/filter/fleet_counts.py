# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the fleet report's counts: several tenants' counts added up, the counts after a run computed from the
counts before and the restart results (and the jobs read again, if any), and what those counts rest on
(module_utils/_jobs/counts.py)."""

from ansible_collections.entra.sync.plugins.module_utils._jobs.counts import add_counts, after_source, counts_after


def add_counts_filter(counts, more):
    """The counts plus more (the same shape: {template_id: {status_code: count}})."""
    return add_counts(counts, more)


class FilterModule:
    def filters(self):
        return {"add_counts": add_counts_filter, "counts_after": counts_after, "after_source": after_source}
