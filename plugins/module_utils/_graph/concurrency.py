# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one bounded worker pool: reads, restarts, $batch envelopes and wait polls all go through run_bounded."""

from concurrent.futures import ThreadPoolExecutor

# The highest concurrency a module or the inventory plugin accepts.
MAX_CONCURRENCY = 64


def run_bounded(items, worker, concurrency):
    """worker(item) for every item, at most `concurrency` at a time; results keep the input order.

    With one item or a concurrency of 1 (or less) everything runs in the calling thread, in order.
    """
    items = list(items)
    if concurrency <= 1 or len(items) <= 1:
        return [worker(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(worker, items))
