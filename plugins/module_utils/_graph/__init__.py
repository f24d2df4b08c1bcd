# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Graph client: client.py sends (requests, paging), batch.py sends $batch, retry.py decides (pure verdicts),
pacing.py spaces requests, messages.py words what went wrong."""
