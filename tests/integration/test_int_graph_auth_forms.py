"""The graph_auth role in the two forms a play uses: under roles: with access_token "{{ entra_sync_access_token }}"
in module_defaults (no default: the role's own graph_token task is in that group too), and the README's
include_role with | default('').

Both sign in once, and every module after the role uses the role's token (no second token request).
"""

import json

import pytest

RESTART = "entra.sync.sync_job_restart"
FORMS = {
    "natural": ("{{ entra_sync_access_token }}", "roles"),
    "readme": ("{{ entra_sync_access_token | default('') }}", "include_role"),
}


def _play(form, jobs):
    token_template, how = FORMS[form]
    tasks = [
        {"name": "restart", RESTART: {"jobs": jobs, "restart_if": ["quarantined"]}, "register": "restarted"},
        {"name": "restart again (converged)", RESTART: {"jobs": jobs, "restart_if": ["quarantined"]}, "register": "again"},
        {"name": "check", "ansible.builtin.assert": {"that": [
            "restarted.summary.restarted == %d" % len(jobs),
            "again.summary.skipped == %d" % len(jobs),
        ]}},
    ]
    play = {
        "name": "graph_auth, %s form" % form,
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "module_defaults": {"group/entra.sync.graph": {"access_token": token_template}},
        "tasks": tasks,
    }
    if how == "roles":
        play["roles"] = [{"role": "entra.sync.graph_auth"}]
    else:
        play["tasks"] = [{"name": "sign in", "ansible.builtin.include_role": {"name": "entra.sync.graph_auth"}}] + tasks
    return [play]


@pytest.mark.parametrize("form", sorted(FORMS))
def test_graph_auth_role_signs_in_once_for_the_play(form, tenant, runner):
    ids = tenant.make_fleet({index: ["Quarantine"] for index in range(1, 4)})
    jobs = [{"service_principal_id": sp, "job_id": job} for sp, job in ids.values()]
    playbook = runner.tmp_path / ("%s.yml" % form)
    playbook.write_text(json.dumps(_play(form, jobs)))

    run = runner.run_playbook(tenant.sandbox, playbook)
    assert run.rc == 0, run.describe()
    assert "is undefined" not in run.output
    log = tenant.log()
    assert len(tenant.token_requests(log)) == 1, "the modules use the role's token: %s" % tenant.token_requests(log)
    assert tenant.restarts() == {(sp, job): 1 for sp, job in ids.values()}
    assert "eyJ" not in run.output, "a token reached the output"
