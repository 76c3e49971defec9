"""The public side of a code (no login): the scan with "why us" recomputed from the published draw proof, the
anonymous evaluation (once per code, with the secret part), the enterprise's self-service and 信用修复 guidance.

Reads only public tables (``public_visits``, ``public_draws`` through planning's public module, ``public_results``
through disclosure's service) with no tenant scope; the evaluation is written in an anonymous scope, the only one
``visit_evaluations``' insert policy admits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure import service as disclosure
from services.draw.proof import load_proof
from services.enterprise import codes
from services.enterprise import repository as repo
from services.enterprise.schemas import (
    CreditRepair,
    EnterpriseLookup,
    EnterpriseRecord,
    EnterpriseView,
    EvaluationDone,
    EvaluationIn,
    InspectorOnDay,
    PublicVisitRow,
    ScanOut,
    VisitKind,
    VisitStatus,
    WhyUs,
)
from services.inspection.schemas import CLEAN_CATEGORIES
from services.planning import public as planning_public
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.settings import get_settings

UNKNOWN = "检查码不存在，请核对告知书上的检查码（10位字母和数字）"


def clean_code(raw: str) -> str:
    code = codes.normalise(raw)
    if not codes.looks_like_code(code):
        raise NotFound(UNKNOWN, field="code")
    return code


async def _visit(session: AsyncSession, raw: str) -> PublicVisitRow:
    visit = await repo.public_visit(session, clean_code(raw))
    if visit is None:
        raise NotFound(UNKNOWN, field="code")
    return visit


async def why_us(session: AsyncSession, draw_id: uuid.UUID, uscc: str) -> WhyUs | None:
    """The enterprise's stratum, rank and score in the draw and the counts, from the proof file anyone can download
    and recompute (score = SHA-256(seed || USCC); the stratum's k lowest (score, USCC) are drawn)."""
    data = await planning_public.proof_of(session, draw_id)
    if data is None:
        return None
    proof = load_proof(data)
    stratum = next((s for s, usccs in proof.selected.items() if uscc in usccs), None)
    if stratum is None:
        return None
    seed = bytes.fromhex(proof.seed)
    size = sum(1 for e in proof.eligible if e.stratum == stratum)
    return WhyUs(
        draw_id=draw_id,
        stratum=stratum,
        rank=proof.selected[stratum].index(uscc) + 1,
        score=hashlib.sha256(seed + uscc.encode()).hexdigest(),
        stratum_size=size,
        stratum_drawn=len(proof.selected[stratum]),
        ratio=proof.ratios.get(stratum, ""),
        drawn_total=sum(len(v) for v in proof.selected.values()),
        eligible_total=len(proof.eligible),
        proof_url=f"/public/draws/{draw_id}/proof.json",
        verify_url=f"/public/draws/{draw_id}",
    )


async def scan(session: AsyncSession, raw: str, today: dt.date | None = None) -> ScanOut:
    visit = await _visit(session, raw)
    today = today or dt.date.today()
    # Licences are judged on the day of the check: its date when set, else today kept within the window.
    day = visit.visit_date or min(max(today, visit.window_start), visit.window_end)
    status = visit.status
    draw = None
    if visit.card.draw_id is not None:
        draw = await planning_public.public_draw(session, visit.card.draw_id)
        if draw is not None and draw.status == "已作废":
            status = VisitStatus.CANCELLED
    inspectors = [
        InspectorOnDay(
            name=i.name,
            licence=i.licence,
            department=i.department,
            licence_valid=None if i.licence_expiry is None else i.licence_expiry >= day,
        )
        for i in visit.card.inspectors
    ]
    reasons = None
    if visit.kind in (VisitKind.RANDOM, VisitKind.JOINT) and visit.card.draw_id is not None:
        reasons = await why_us(session, visit.card.draw_id, visit.uscc)
    return ScanOut(
        code=visit.code,
        status=status,
        kind=visit.kind,
        uscc=visit.uscc,
        card=visit.card,
        window_start=visit.window_start,
        window_end=visit.window_end,
        visit_date=visit.visit_date,
        inspectors=inspectors,
        why_us=reasons,
        evaluated=visit.evaluated,
    )


async def evaluate(session: AsyncSession, raw: str, data: EvaluationIn) -> EvaluationDone:
    """Once per code, with its secret part; anonymous towards the department (which cannot read evaluations)."""
    visit = await _visit(session, raw)
    if visit.status != VisitStatus.ACTIVE:
        raise Conflict("该检查已取消，无需评价", field="code")
    secret = codes.normalise(data.secret)
    if not codes.looks_like_code(secret, codes.SECRET_LENGTH):
        raise InvalidInput("评价码应为告知书上印制的12位字母和数字", field="secret")
    if visit.evaluated:
        raise Conflict("该检查码已评价过，每次检查只能评价一次", field="code")
    if not await repo.mark_evaluated(session, visit.code, codes.secret_hash(secret)):
        raise Forbidden("评价码不正确，请核对告知书上的评价码", field="secret")
    team = "、".join(i.name for i in visit.card.inspectors) or "未列明检查人员"
    try:
        async with session.begin_nested():
            await repo.insert_evaluation(session, visit, team, data)
    except IntegrityError as exc:  # a concurrent first evaluation won
        raise Conflict("该检查码已评价过，每次检查只能评价一次", field="code") from exc
    return EvaluationDone(code=visit.code, recorded_at=dt.datetime.now(dt.UTC))


def is_negative(categories: list[str]) -> bool:
    return any(c not in CLEAN_CATEGORIES for c in categories)


async def credit_repair(session: AsyncSession, region: str) -> CreditRepair:
    settings = await repo.county_settings(session, region)
    steps = [s.strip() for s in settings.repair_steps.splitlines() if s.strip()] or list(DEFAULT_REPAIR_STEPS)
    return CreditRepair(
        region_code=region,
        office=settings.repair_office or "县市场监督管理局信用监管股（或作出处理决定的部门）",
        steps=steps,
        contact=settings.repair_contact,
    )


DEFAULT_REPAIR_STEPS = (
    "按检查结果完成整改，保存整改报告和相关证明材料",
    "登录“信用中国”网站或国家企业信用信息公示系统，提交信用修复申请及整改材料",
    "作出处理决定的部门在规定时限内核实整改情况，必要时进行现场核查",
    "核实通过后，相关公示信息按规定停止公示或标注已修复",
)


async def enterprise_view(session: AsyncSession, data: EnterpriseLookup) -> EnterpriseView:
    """An enterprise's published checks across departments and its pending visits, proven by a code it holds."""
    visit = await repo.public_visit(session, codes.normalise(data.code))
    uscc = data.uscc.upper()
    if visit is None or visit.uscc != uscc:
        raise Forbidden("统一社会信用代码与检查码不匹配，请核对告知书", field="code")
    region = visit.region_code
    records = [
        EnterpriseRecord(
            id=r.id,
            department_name=r.department_name,
            task_name=r.task_name,
            check_date=r.check_date,
            categories=list(r.categories),
            negative=is_negative(list(r.categories)),
        )
        for r in await disclosure.enterprise_records(session, region, uscc)
    ]
    today = dt.date.today()
    pending = [
        v
        for v in await repo.enterprise_visits(session, region, uscc)
        if v.status == VisitStatus.ACTIVE and (v.visit_date is None or v.visit_date >= today)
    ]
    negative = any(r.negative for r in records)
    return EnterpriseView(
        uscc=uscc,
        enterprise_name=visit.card.enterprise_name,
        records=records,
        pending=pending,
        credit_repair=await credit_repair(session, region) if negative else None,
    )


def secret_of(code: str) -> str:
    return codes.secret_for(get_settings().app.secret_key, code)
