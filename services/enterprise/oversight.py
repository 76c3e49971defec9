"""The county overseer's side (执法监督, read-only scope): the burden ledger, evaluations per department and per
inspector group (never which enterprise gave them), findings by credit-risk class, proposals of joint visits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from services.enterprise import repository as repo
from services.enterprise.schemas import (
    BurdenOut,
    ClassFindings,
    EvaluationGroup,
    EvaluationRow,
    EvaluationsOut,
    FindingsOut,
    JointProposal,
    ProposalOut,
)
from services.inspection import records as inspection_records
from shared import notifications
from shared.errors import Conflict, InvalidInput
from shared.runtime import Runtime
from shared.tenancy import system_scope

CLASSES = ("A", "B", "C", "D", "-")


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput("年度应在 2000–2100 之间", field="year")


async def burden(session: AsyncSession, region: str, year: int) -> BurdenOut:
    _check_year(year)
    return BurdenOut(
        year=year,
        settings=await repo.county_settings(session, region),
        most_visited=await repo.most_visited(session, region, year),
        alerts=await repo.alerts(session, region, year),
    )


def _group(department: str, team: str | None, rows: list[EvaluationRow]) -> EvaluationGroup:
    return EvaluationGroup(
        department=department,
        team=team,
        count=len(rows),
        conduct=round(sum(r.conduct for r in rows) / len(rows), 2),
        burden=round(sum(r.burden for r in rows) / len(rows), 2),
        credentials_not_shown=sum(1 for r in rows if not r.credentials_shown),
        improper=sum(1 for r in rows if r.improper),
        comments=[r.comment for r in rows if r.comment],
    )


async def evaluations(session: AsyncSession, year: int, names: Mapping[uuid.UUID, str]) -> EvaluationsOut:
    """Per department and per inspector group; the rows carry no enterprise (RLS: only the overseer reads them)."""
    _check_year(year)
    by_department: dict[str, list[EvaluationRow]] = {}
    by_team: dict[tuple[str, str], list[EvaluationRow]] = {}
    for row in await repo.evaluations(session, year):
        department = names.get(row.department_id, "其他部门")
        by_department.setdefault(department, []).append(row)
        by_team.setdefault((department, row.team), []).append(row)
    return EvaluationsOut(
        by_department=[_group(d, None, rows) for d, rows in sorted(by_department.items())],
        by_team=[_group(d, t, rows) for (d, t), rows in sorted(by_team.items())],
    )


async def findings(session: AsyncSession, year: int, names: Mapping[uuid.UUID, str]) -> FindingsOut:
    """Share of published checks finding problems, per department and credit-risk class (A–D), and county-wide."""
    _check_year(year)
    rows = []
    totals: dict[str, list[int]] = {}
    for r in await inspection_records.findings_by_class(session, year):
        rows.append(
            ClassFindings(
                department=names.get(r.department_id, "其他部门"),
                risk_class=r.risk_class,
                checks=r.checks,
                with_problems=r.with_problems,
                share=r.with_problems / r.checks if r.checks else 0.0,
            )
        )
        total = totals.setdefault(r.risk_class, [0, 0])
        total[0] += r.checks
        total[1] += r.with_problems
    return FindingsOut(
        year=year,
        rows=sorted(
            rows, key=lambda c: (c.department, CLASSES.index(c.risk_class) if c.risk_class in CLASSES else 9)
        ),
        totals=[
            ClassFindings(
                "全县", c, totals[c][0], totals[c][1], totals[c][1] / totals[c][0] if totals[c][0] else 0.0
            )
            for c in CLASSES
            if c in totals
        ],
    )


async def departments_to_notify(session: AsyncSession, region: str, uscc: str) -> list[uuid.UUID]:
    """The county's departments with a visit to the enterprise still to be made (whom a joint visit concerns)."""
    return await repo.pending_departments(session, region, uscc)


async def propose_joint_visit(
    runtime: Runtime,
    session: AsyncSession,
    region: str,
    overseer: str,
    data: JointProposal,
    names: Mapping[uuid.UUID, str],
) -> ProposalOut:
    """Tell every department with a pending visit to the enterprise that the county proposes one joint visit.

    The overseer's own transaction is read-only; each department's notification is written in that department's
    scope (a department of the overseer's county, found by the register), one transaction each, once per day."""
    uscc = data.uscc.upper()
    departments = await departments_to_notify(session, region, uscc)
    if len(departments) < 2:
        raise Conflict("该企业近期只有一个部门的待实施检查，无需合并为联合检查", field="uscc")
    others = "、".join(names.get(d, "其他部门") for d in departments)
    body = f"县级执法监督建议以下部门对该企业合并开展一次部门联合检查：{others}。" + (
        f"说明：{data.note}" if data.note else ""
    )
    for department in departments:
        async with runtime.unit_of_work(system_scope(department)) as own:
            await notifications.create(
                own,
                department,
                "enterprise.joint_proposal",
                f"建议合并检查：{uscc}",
                body,
                "/visits",
                dedupe_key=f"joint-proposal:{uscc}:{dt.date.today().isoformat()}",
            )
    return ProposalOut(uscc=uscc, notified=[names.get(d, "其他部门") for d in departments])
