"""The CLI as users run it: options, files in the state dir, output without the secret, clean stop."""

import json
import os

from entra_sandbox.summary import format_counters
from entra_sandbox.testing import SandboxProcess


def test_serve_options_files_and_stop(tmp_path):
    profile = tmp_path / "faults.json"
    profile.write_text(json.dumps({"rules": [{"method": "GET", "path": "/jobs$", "count": 1, "fault": "status", "status": 500}]}))
    state_dir = tmp_path / "state"
    with SandboxProcess(state_dir, seed=7, tenants=3, service_principals=20, latency_ms=25, token_lifetime=120,
                        fault_profile=str(profile), cloud="china") as running:
        for name in ("ca.pem", "cert.pem", "cert.pfx", "sandbox.json", "env.sh", "ready"):
            assert (state_dir / name).exists(), name
        config = running.config
        assert config["cloud"] == "china" and config["scope"] == "https://microsoftgraph.chinacloudapi.cn/.default"
        assert len(config["tenants"]) == 3 and config["token_lifetime"] == 120
        assert set(config["apps"]) == {"full", "readonly", "noperm", "ownedby", "cert"}
        assert set(running.env) == {"ENTRA_SYNC_GRAPH_ENDPOINT", "AZURE_AUTHORITY_HOST", "ENTRA_SYNC_CA_PATH", "AZURE_TENANT_ID",
                                    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "ENTRA_SANDBOX_ADMIN"}
        env_sh = (state_dir / "env.sh").read_text()
        assert "export AZURE_CLIENT_SECRET=" in env_sh and running.env["ENTRA_SYNC_CA_PATH"] == str(state_dir / "ca.pem")
        assert running.admin.faults()["latency_ms"] == 25
        sp = running.admin.jobs()[0]["service_principal_id"]
        assert running.graph("GET", "/servicePrincipals/%s/synchronization/jobs" % sp).status_code == 500
        assert running.admin.counters()["faults"] == {"status_500": 1}
        assert "status_500 1" in format_counters(running.admin.counters())
        secret = config["apps"]["full"]["client_secret"]
    assert not (state_dir / "ready").exists()
    assert running.process.returncode == 0
    out = (state_dir / "server.out").read_text()
    assert "ENTRA_SYNC_GRAPH_ENDPOINT=https://127.0.0.1:" in out and secret not in out
    assert secret not in (state_dir / "server.err").read_text()
    assert os.path.exists(state_dir / "sandbox.json")
