"""County-level operator commands of ``spotcheck``: the official calendar, the county's caps and enterprise-side
settings, failed jobs and stored-text cleanup (split from :mod:`shared.cli`, which parses and dispatches)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from shared.settings import Settings, get_settings


def settings_or_report(admin_for: str | None = None) -> Settings | None:
    """The settings, or None after saying on stderr what is wrong (the command then exits 2). With ``admin_for``
    (the command's name) the owner connection ``SPOTCHECK_ADMIN_DATABASE_URL`` is required too."""
    from shared.settings import SettingsError

    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return None
    if admin_for and not settings.db.admin_url:
        print(f"SPOTCHECK_ADMIN_DATABASE_URL is required for {admin_for}", file=sys.stderr)
        return None
    return settings


def _clean_text(args: argparse.Namespace) -> int:
    from shared.text_cleanup import clean_text

    url = get_settings().db.admin_url
    if not url:
        print("clean-text needs SPOTCHECK_ADMIN_DATABASE_URL (the owner role)", file=sys.stderr)
        return 2
    found = asyncio.run(clean_text(url, apply=args.apply))
    for table, column, count in found:
        print(f"{table}.{column}: {count} rows {'cleaned' if args.apply else 'with control characters'}")
    print(
        f"{'cleaned' if args.apply else 'found'}: {sum(c for _, _, c in found)} rows in {len(found)} columns"
    )
    return 0


def _calendar(args: argparse.Namespace) -> int:
    import json

    import msgspec

    from services.disclosure import deadlines
    from shared.errors import InvalidInput

    settings = settings_or_report(None if args.file is None else "loading the calendar")
    if settings is None:
        return 2
    if args.file is None:
        try:
            shown = asyncio.run(deadlines.show_year(settings.db.url, args.year))
        except InvalidInput as exc:
            print(f"{exc.field}: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(shown, ensure_ascii=False, indent=2, default=str))
        return 0
    assert settings.db.admin_url  # _settings required it, a file being given
    try:
        data = msgspec.json.decode(Path(args.file).read_bytes(), type=deadlines.CalendarYear)
        loaded = asyncio.run(deadlines.load_year(settings.db.admin_url, args.year, data, args.by))
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except msgspec.ValidationError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    except msgspec.DecodeError as exc:
        print(f"{args.file} is not JSON: {exc}", file=sys.stderr)
        return 2
    except InvalidInput as exc:
        print(f"{exc.field}: {exc}", file=sys.stderr)
        return 2
    print(
        f"{loaded['year']}: {loaded['holidays']} holidays, {loaded['workdays']} make-up working days loaded"
    )
    return 0


def _county_cap(args: argparse.Namespace) -> int:
    from services.federation.visits import set_county_cap

    if args.cap is not None and args.cap < 1:
        print(
            "--cap must be a positive number of checks per enterprise and year (use --clear to remove it)",
            file=sys.stderr,
        )
        return 2
    settings = settings_or_report("county-cap")
    if settings is None:
        return 2
    assert settings.db.admin_url  # settings_or_report("county-cap") made sure of it
    try:
        asyncio.run(set_county_cap(settings.db.admin_url, args.region, None if args.clear else args.cap))
    except LookupError:
        print(f"unknown region {args.region}", file=sys.stderr)
        return 2
    print(f"county {args.region}: annual cap per enterprise = {'none' if args.clear else args.cap}")
    return 0


def _county_enterprise(args: argparse.Namespace) -> int:
    from services.enterprise.settings import configure

    settings = settings_or_report("county-enterprise")
    if settings is None:
        return 2
    assert settings.db.admin_url
    try:
        shown = asyncio.run(configure(settings.db.admin_url, args.region, vars(args)))
    except (LookupError, ValueError) as exc:
        print(f"county-enterprise: {exc}", file=sys.stderr)
        return 2
    print(shown)
    return 0


def _jobs(args: argparse.Namespace) -> int:
    import uuid

    from shared import job_admin
    from shared.settings import SettingsError

    try:
        url = get_settings().db.url
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.action == "retry":
        try:
            job_id = uuid.UUID(args.job_id or "")
        except ValueError:
            print("retry needs the id of a failed job (see `spotcheck jobs`)", file=sys.stderr)
            return 2
        if not asyncio.run(job_admin.retry(url, job_id)):
            print(f"no failed job {job_id}", file=sys.stderr)
            return 1
        print(f"job {job_id} queued again; a worker takes it at its next sweep (SPOTCHECK_JOB_SWEEP_SECONDS)")
        return 0
    view = asyncio.run(job_admin.overview(url))
    print(job_admin.render(view))
    return 1 if view.failed else 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("clean-text", help="find (and with --apply remove) control characters in stored text")
    p.add_argument(
        "--apply", action="store_true", help="clean them (one transaction); without it only report"
    )
    p.set_defaults(fn=_clean_text)

    p = sub.add_parser("jobs", help="list failed background jobs (exit 1 if any) or retry one (operators)")
    p.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    p.add_argument("job_id", nargs="?", help="the failed job's id (retry)")
    p.set_defaults(fn=_jobs)

    p = sub.add_parser(
        "county-cap", help="set the county's per-enterprise annual cap on checks across departments"
    )
    p.add_argument("--region", required=True, help="行政区划代码, e.g. 130528")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--cap", type=int, help="draws per enterprise and plan year, all departments together")
    group.add_argument("--clear", action="store_true", help="remove the cap")
    p.set_defaults(fn=_county_cap)

    p = sub.add_parser(
        "county-enterprise",
        help="the county's burden thresholds, cool-down and 信用修复 guidance (enterprise side); no option: show them",
    )
    p.add_argument("--region", required=True, help="行政区划代码, e.g. 130528")
    p.add_argument("--day", type=int, help="visits per enterprise and day before an alert (default 1)")
    p.add_argument("--week", type=int, help="visits per enterprise and week before an alert (default 2)")
    p.add_argument("--month", type=int, help="visits per enterprise and month before an alert (default 3)")
    p.add_argument(
        "--cooldown", type=int, help="months (1-36): no random draw of an enterprise checked that recently"
    )
    p.add_argument("--no-cooldown", action="store_true", help="remove the cool-down")
    p.add_argument("--repair-office", help="the office that handles 信用修复")
    p.add_argument(
        "--repair-steps", help="the steps of 信用修复, one per line (a file's text: use $(cat FILE))"
    )
    p.add_argument("--repair-contact", help="its telephone or address")
    p.add_argument("--supervision-phone", help="the county's 执法监督 telephone, printed on notices")
    p.set_defaults(fn=_county_enterprise)

    p = sub.add_parser(
        "calendar",
        help="show a year of the official holiday calendar, or load it from a JSON file "
        "(operators; every county's deadlines are counted on it)",
    )
    p.add_argument("year", type=int)
    p.add_argument(
        "--file", help='JSON: {"holidays": ["YYYY-MM-DD", …], "workdays": […], "note": "国办发明电…"}'
    )
    p.add_argument(
        "--by", default="平台运维", help="who loads it, as shown on the calendar page (default 平台运维)"
    )
    p.set_defaults(fn=_calendar)
