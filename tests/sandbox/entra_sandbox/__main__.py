"""Command line: `python -m entra_sandbox serve|summary` (run with PYTHONPATH=tests/sandbox)."""

import argparse
import asyncio
import json
import os
import signal
import sys

from .clouds import CLOUDS


def _parser():
    parser = argparse.ArgumentParser(prog="entra_sandbox", description="Local emulator of Microsoft Graph sync + Entra sign-in.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the sandbox until SIGTERM/SIGINT")
    serve.add_argument("--state-dir", required=True, help="where ca.pem, cert.pem, cert.pfx, sandbox.json, env.sh and ready go")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--tenants", type=int, default=1)
    serve.add_argument("--service-principals", type=int, default=300, help="per tenant")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="added to every Graph call")
    serve.add_argument("--token-lifetime", type=int, default=3600, help="seconds")
    serve.add_argument("--fault-profile", help="JSON file (see faults.py)")
    serve.add_argument("--cloud", choices=sorted(CLOUDS), default="global", help="the cloud whose Graph audience is accepted")
    serve.add_argument("--relapse-delay", type=float, default=0.0,
                       help="seconds from a restart to the relapse of a job whose cause persists (0: at once)")
    summary = sub.add_parser("summary", help="print the counters of a running sandbox")
    summary.add_argument("--state-dir", required=True)
    return parser


async def _serve(args):
    # Imported here so `summary` does not need aiohttp/trustme.
    from .certs import make_server_tls  # pylint: disable=import-outside-toplevel
    from .sandbox import Sandbox  # pylint: disable=import-outside-toplevel
    from .server import start  # pylint: disable=import-outside-toplevel

    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    ready = os.path.join(state_dir, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    profile = None
    if args.fault_profile:
        with open(args.fault_profile, encoding="utf-8") as handle:
            profile = json.load(handle)
    ssl_context = make_server_tls(state_dir)
    sandbox = Sandbox(state_dir, seed=args.seed, tenants=args.tenants, service_principals=args.service_principals, cloud=args.cloud,
                      token_lifetime=args.token_lifetime, fault_profile=profile, latency_ms=args.latency_ms,
                      relapse_delay=args.relapse_delay)
    runner = await start(sandbox, ssl_context, args.host, args.port)
    sandbox.write_files()
    for name, value in sandbox.env().items():
        if name == "AZURE_CLIENT_SECRET":
            # The secret stays in env.sh and sandbox.json; the server's own output never shows it.
            print("# AZURE_CLIENT_SECRET: see %s" % os.path.join(state_dir, "env.sh"))
        else:
            print("export %s=%s" % (name, value))
    print("# source %s to use it; admin API: %s/_sandbox/" % (os.path.join(state_dir, "env.sh"), sandbox.base_url), flush=True)
    with open(ready, "w", encoding="utf-8") as handle:
        handle.write(sandbox.base_url + "\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    if os.path.exists(ready):
        os.unlink(ready)
    await runner.cleanup()


def _summary(args):
    from .summary import fetch_and_format  # pylint: disable=import-outside-toplevel
    print(fetch_and_format(os.path.abspath(args.state_dir)))


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command == "serve":
        asyncio.run(_serve(args))
    else:
        _summary(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
