#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: fleet_report_files
short_description: Write a fleet run's report (report.json, report.md, report.html) in one step
description:
  - Writes the report of the C(entra.sync.restart_jobs) or C(entra.sync.merge_reports) playbook into one directory,
    C(report.json) (sorted keys, indented), C(report.md) when O(markdown) is given, and C(report.html), each replaced
    whole (a temporary file renamed over it), mode C(0600), the directory created with mode C(0700) when missing. A file
    whose content is unchanged is not written again.
  - An existing directory is used only when it is not a symbolic link, belongs to the user the task runs as and nobody
    else can write in it (a group whose only member is the owner counts as the owner), so a report folder of yours with
    mode C(0755) is fine, and one another local user made or can write in (mode C(0777), C(/tmp) itself) is refused.
    A report file there must be a regular file of that user that nobody else can change; a symbolic link is never
    followed. A refusal names the path, its owner and mode, and what to do; nothing is written then (in check mode too).
  - C(report.html) is one self-contained page (inline CSS and SVG charts, no script, nothing loaded from anywhere) that
    the action plugin renders on the controller with Jinja2 from the same report, autoescaped. It shows the verdict,
    the totals, the jobs by status before and after, the jobs that need something by remedy, a row per tenant, the
    run's timeline, the trend of the last runs (with O(history)), the jobs that need a person, then the jobs restarted.
  - With O(history), the run's totals are added as one line to C(history.jsonl) in that folder (by the same rules, the
    folder made C(0700), the file C(0600)); a run already there is not added again.
  - When the ARA callback records the playbook (ARA Records Ansible), the action plugin records the report's totals
    (key C(entra_sync_report)) and the path of C(report.html) (key C(entra_sync_report_html)) with ARA's C(ara_record).
    Nothing happens without ARA.
  - On the controller (a local connection, as with C(delegate_to=localhost)) the action plugin writes the files in the
    controller's process, so no module is sent; elsewhere the module writes them on the target host (the page is still
    rendered on the controller, with the history read from the target host).
version_added: 0.1.0
author:
  - entra.sync maintainers (@entra-sync)
options:
  path:
    description: The report directory.
    type: path
    required: true
  report:
    description: The report, written as JSON to C(report.json).
    type: dict
    required: true
  markdown:
    description: The report as Markdown (for example rendered with the C(ansible.builtin.template) lookup), written to C(report.md).
    type: str
  html:
    description:
      - The text of C(report.html). Leave it out, and the action plugin renders it from O(report) with the collection's template.
    type: str
  history:
    description:
      - The report history folder; the run's totals are added to its C(history.jsonl), and C(report.html) shows the last runs.
      - Defaults to the variable C(entra_sync_report_history) when it is set, so every playbook that writes a report keeps the history.
    type: path
attributes:
  check_mode:
    support: full
    description: Says whether a file would change, and writes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
notes:
  - The report holds no secret; the fleet playbook keeps credentials and tokens out of it.
seealso:
  - module: entra.sync.sync_job_restart
"""

EXAMPLES = r"""
- name: Write the report of a run
  entra.sync.fleet_report_files:
    path: "{{ entra_sync_report_dir }}"
    report: "{{ entra_sync_report }}"
    markdown: "{{ lookup('ansible.builtin.template', 'templates/restart_report.md.j2') }}"
  delegate_to: localhost
"""

RETURN = r"""
files:
  description: The files of the report, written or already up to date.
  returned: success
  type: list
  elements: str
  sample: [/srv/reports/report.html, /srv/reports/report.json, /srv/reports/report.md]
history:
  description: The history file the run's totals went to.
  returned: when O(history) is set
  type: str
  sample: /srv/reports/history/history.jsonl
ara_records:
  description: The keys recorded in ARA (only when the ARA callback records the playbook).
  returned: when ARA recorded them
  type: list
  elements: str
  sample: [entra_sync_report, entra_sync_report_html]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.entra.sync.plugins.module_utils._fleet.report_files import ARGUMENT_SPEC, fleet_report_result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = fleet_report_result(module.params, module.check_mode)
    if result.get("failed"):
        module.fail_json(msg=result["msg"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
