#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: fleet_report_files
short_description: Write a fleet run's report (report.json and report.md) in one step
description:
  - Writes the report of the C(entra.sync.restart_jobs) or C(entra.sync.merge_reports) playbook into one directory,
    C(report.json) (sorted keys, indented) and, when O(markdown) is given, C(report.md), each replaced whole (a temporary
    file renamed over it), mode C(0600), the directory created with mode C(0700) when missing. A file whose content is
    unchanged is not written again.
  - An existing directory is used only when it is not a symbolic link, belongs to the user the task runs as and nobody
    else can write in it (a group whose only member is the owner counts as the owner), so a report folder of yours with
    mode C(0755) is fine, and one another local user made or can write in (mode C(0777), C(/tmp) itself) is refused.
    A report file there must be a regular file of that user that nobody else can change; a symbolic link is never
    followed. A refusal names the path, its owner and mode, and what to do; nothing is written then (in check mode too).
  - On the controller (a local connection, as with C(delegate_to=localhost)) the action plugin writes the files in the
    controller's process, so no module is sent; elsewhere the module writes them on the target host.
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
  sample: [/srv/reports/report.json, /srv/reports/report.md]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.entra.sync.plugins.module_utils._fleet.report_files import ARGUMENT_SPEC, fleet_report_result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = fleet_report_result(module.params["path"], module.params["report"], module.params["markdown"], module.check_mode)
    if result.get("failed"):
        module.fail_json(msg=result["msg"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
