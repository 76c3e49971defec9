"""Load the seed county's demo data (idempotent: a department that already has sections is left alone)."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from devtools.demo import registries
from services.identity.provisioning import ensure_department, ensure_region_chain
from shared.runtime import Runtime
from shared.tenancy import system_scope

log = structlog.get_logger()

REGIONS = [("130000", "河北省", "province"), ("130500", "邢台市", "city"), ("130528", "宁晋县", "county")]

ITEMS = {
    "130528-yjj": [
        (
            "YJ-001",
            "对危化企业安全生产的检查",
            "重点",
            ["危险化学品"],
            [
                "人员和资质管理情况",
                "工艺管理情况",
                "设备设施管理情况",
                "重大危险源安全管理情况",
                "安全生产责任制落实情况",
                "隐患排查治理情况",
            ],
        ),
        (
            "YJ-002",
            "对工贸企业安全生产的检查",
            "一般",
            ["工贸安全"],
            [
                "安全生产责任制落实情况",
                "粉尘防爆安全管理情况",
                "有限空间作业安全管理情况",
                "涉氨制冷安全管理情况",
                "安全培训教育情况",
            ],
        ),
    ],
    "130528-xfjy": [
        (
            "XF-001",
            "对单位履行法定消防安全职责情况的监督检查",
            "重点",
            ["消防监督"],
            [
                "消防安全责任制落实情况",
                "消防设施器材配置及完好有效情况",
                "疏散通道、安全出口畅通情况",
                "消防控制室值班情况",
            ],
        ),
    ],
    "130528-scjg": [
        (
            "SJ-001",
            "企业公示信息情况的检查",
            "一般",
            ["市场监管"],
            ["年度报告公示信息情况", "即时公示信息情况"],
        ),
    ],
}
LEGAL_BASIS = {
    "130528-yjj": "《中华人民共和国安全生产法》第六十五条；《危险化学品安全管理条例》",
    "130528-xfjy": "《消防监督检查规定》（公安部令第120号）第十条、第十一条",
    "130528-scjg": "《企业信息公示暂行条例》",
}


async def load(admin_url: str, runtime: Runtime) -> bool:
    """Returns True when anything was loaded."""
    await ensure_region_chain(admin_url, REGIONS)
    loaded = False
    for dept in registries.build():
        dept_id = await ensure_department(admin_url, dept.code, "130528", dept.name, dept.short_name)
        async with runtime.unit_of_work(system_scope(dept_id)) as session:
            has = (await session.execute(text("SELECT count(*) FROM sections"))).scalar_one()
            if has:
                continue
            await _load_department(session, dept_id, dept)
            loaded = True
            log.info(
                "demo.loaded",
                department=dept.code,
                objects=len(dept.objects),
                inspectors=len(dept.inspectors),
            )
    return loaded


async def _load_department(
    session: AsyncSession, dept_id: uuid.UUID, dept: registries.DemoDepartment
) -> None:
    section_ids = {code: uuid.uuid4() for code, _ in dept.sections}
    await session.execute(
        text("INSERT INTO sections (id, tenant_id, code, name) VALUES (:id, :t, :code, :name)"),
        [{"id": section_ids[c], "t": dept_id, "code": c, "name": n} for c, n in dept.sections],
    )
    await session.execute(
        text("INSERT INTO tags (id, tenant_id, category, name) VALUES (:id, :t, :category, :name)"),
        [{"id": uuid.uuid4(), "t": dept_id, "category": c, "name": n} for c, n in dept.tags],
    )
    for code, name, category, specialties, points in ITEMS[dept.code]:
        item_id = uuid.uuid4()
        await session.execute(
            text(
                "INSERT INTO inspection_items (id, tenant_id, code, name, category, item_type, object_type,"
                " check_methods, legal_basis, subject, ratio_frequency, specialties) VALUES (:id, :t, :code, :name,"
                " :category, '安全生产随机抽查综合事项', '生产经营单位', :methods, :basis, :subject, :ratio, :spec)"
            ),
            {
                "id": item_id,
                "t": dept_id,
                "code": code,
                "name": name,
                "category": category,
                "methods": ["现场检查", "书面检查"],
                "basis": LEGAL_BASIS[dept.code],
                "subject": dept.name,
                "ratio": "抽查比例不低于5%，每年不少于1次",
                "spec": specialties,
            },
        )
        await session.execute(
            text(
                "INSERT INTO check_points (id, tenant_id, item_id, seq, content) VALUES (:id, :t, :item, :seq, :c)"
            ),
            [
                {"id": uuid.uuid4(), "t": dept_id, "item": item_id, "seq": i, "c": p}
                for i, p in enumerate(points, 1)
            ],
        )
    await session.execute(
        text(
            "INSERT INTO registry_objects (id, tenant_id, uscc, name, address, region_code, industry, tags,"
            " major_hazard_level, risk_class, status, licence_no, licence_expiry) VALUES (:id, :t, :uscc, :name,"
            " :address, '130528', :industry, :tags, :mh, :risk, :status, :lic, :lic_exp)"
        ),
        [
            {
                "id": uuid.uuid4(),
                "t": dept_id,
                "uscc": o.uscc,
                "name": o.name,
                "address": o.address,
                "industry": o.industry,
                "tags": o.tags,
                "mh": o.major_hazard_level,
                "risk": o.risk_class,
                "status": o.status,
                "lic": o.licence_no,
                "lic_exp": o.licence_expiry,
            }
            for o in dept.objects
        ],
    )
    await session.execute(
        text(
            "INSERT INTO inspectors (id, tenant_id, section_id, name, licence_no, licence_expiry, specialties,"
            " qualifications, is_expert, is_team_leader, user_id) VALUES (:id, :t, :section, :name, :lic, :exp,"
            " :spec, :qual, :expert, :leader, :user)"
        ),
        [
            {
                "id": uuid.uuid4(),
                "t": dept_id,
                "section": section_ids[i.section],
                "name": i.name,
                "lic": i.licence_no,
                "exp": i.licence_expiry,
                "spec": i.specialties,
                "qual": i.qualifications,
                "expert": i.is_expert,
                "leader": i.is_team_leader,
                "user": i.user_id,
            }
            for i in dept.inspectors
        ],
    )
