"""Deterministic demo registries for the seed county (宁晋县, 130528), generated — never random per run.

Sizes follow a real county: a few hundred directly supervised hazardous-chemical (危化) and industry-and-trade (工贸)
enterprises for 应急管理局, the fire brigade's key units overlapping them by USCC, and each department's inspectors.
Every USCC carries a correct GB 32100-2015 check character (python-stdnum ``cn.uscc``).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date

from stdnum.cn import uscc as uscc_lib

REGION = "130528"
TOWNS = [
    "凤凰镇",
    "河渠镇",
    "北河庄镇",
    "耿庄桥镇",
    "东汪镇",
    "贾家口镇",
    "四芝兰镇",
    "大陆村镇",
    "苏家庄镇",
    "换马店镇",
    "唐邱镇",
    "大曹庄乡",
    "纪昌庄乡",
    "徐家河乡",
    "侯口乡",
    "宁北街道",
]
WORDS = [
    "鑫达",
    "华晶",
    "恒泰",
    "宏远",
    "聚源",
    "润丰",
    "金诺",
    "瑞祥",
    "永盛",
    "嘉禾",
    "博通",
    "中冀",
    "冀宁",
    "德润",
    "昌隆",
    "天成",
    "汇丰",
    "东旭",
    "泰和",
    "正元",
    "科源",
    "盛达",
    "广信",
    "兴业",
    "明辉",
    "新锐",
    "华泰",
    "乾元",
    "晨光",
    "百川",
]
CHEM_KINDS = ["化工", "化学", "气体", "石化", "新材料", "精细化工", "涂料", "燃气"]
TRADE_KINDS = [
    "机械制造",
    "纺织",
    "电缆",
    "服装",
    "食品",
    "木业",
    "铸造",
    "五金",
    "家具",
    "包装",
    "建材",
    "饲料",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲建国峰辉鹏飞斌宇浩凯健俊帆帅旭宁博文晨阳"
RISK_WEIGHTS = [("A", 15), ("B", 45), ("C", 30), ("D", 10)]


@dataclass
class DemoObject:
    uscc: str
    name: str
    address: str
    industry: str
    tags: list[str]
    risk_class: str
    major_hazard_level: int | None = None
    status: str = "在营"
    licence_no: str = ""
    licence_expiry: date | None = None


@dataclass
class DemoInspector:
    name: str
    section: str
    licence_no: str
    licence_expiry: date
    specialties: list[str]
    qualifications: list[str] = field(default_factory=list)
    is_expert: bool = False
    is_team_leader: bool = False
    user_id: uuid.UUID | None = None


@dataclass
class DemoDepartment:
    code: str
    name: str
    short_name: str
    sections: list[tuple[str, str]]
    tags: list[tuple[str, str]]
    objects: list[DemoObject]
    inspectors: list[DemoInspector]


def make_uscc(rng: random.Random, region: str = REGION) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = (
        "91"
        + region
        + "".join(rng.choice("0123456789") for _ in range(2))
        + "".join(rng.choice(alphabet) for _ in range(7))
    )
    return body + uscc_lib.calc_check_digit(body)


def _person(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in used:
            used.add(name)
            return name


def _risk(rng: random.Random) -> str:
    return rng.choices([c for c, _ in RISK_WEIGHTS], weights=[w for _, w in RISK_WEIGHTS])[0]


def _enterprises(
    rng: random.Random, count: int, kinds: list[str], industry: str, used: set[str]
) -> list[DemoObject]:
    result = []
    while len(result) < count:
        name = f"宁晋县{rng.choice(WORDS)}{rng.choice(kinds)}有限公司"
        if name in used:
            name = f"河北{rng.choice(WORDS)}{rng.choice(kinds)}有限公司"
        if name in used:
            continue
        used.add(name)
        town = rng.choice(TOWNS)
        result.append(
            DemoObject(
                uscc=make_uscc(rng),
                name=name,
                address=f"河北省邢台市宁晋县{town}{rng.choice(['工业园区', '村北', '村南', '经济开发区'])}{rng.randint(1, 199)}号",
                industry=industry,
                tags=["直接监管"],
                risk_class=_risk(rng),
            )
        )
    return result


def build(seed: int = 20230113) -> list[DemoDepartment]:
    rng = random.Random(seed)
    names: set[str] = set()
    people: set[str] = set()

    chemicals = _enterprises(rng, 180, CHEM_KINDS, "危化", names)
    for obj in chemicals:
        obj.tags.append("危险化学品")
        obj.licence_no = f"冀邢危化经字〔{rng.choice([2021, 2022, 2023])}〕{rng.randint(100, 999):03d}"
        obj.licence_expiry = date(rng.choice([2024, 2025, 2026]), rng.randint(1, 12), rng.randint(1, 28))
        if rng.random() < 0.25:
            obj.major_hazard_level = rng.choice([1, 2, 3, 4])
            obj.tags.append("重大危险源")
    trade = _enterprises(rng, 520, TRADE_KINDS, "工贸", names)
    for obj in trade:
        extra = rng.random()
        if extra < 0.15:
            obj.tags.append("粉尘涉爆")
        elif extra < 0.25:
            obj.tags.append("涉氨制冷")
        elif extra < 0.40:
            obj.tags.append("有限空间")
    for obj in rng.sample(trade, 12):
        obj.status = "停业"

    def inspectors(prefix: str, sections: list[tuple[str, list[str], int]]) -> list[DemoInspector]:
        result = []
        serial = 1
        for section, specialties, count in sections:
            for i in range(count):
                result.append(
                    DemoInspector(
                        name=_person(rng, people),
                        section=section,
                        licence_no=f"{prefix}{serial:05d}",
                        licence_expiry=date(rng.choice([2026, 2027, 2028]), rng.randint(1, 12), 28),
                        specialties=list(specialties),
                        qualifications=["行政执法证"],
                        is_expert=i == 0,
                        is_team_leader=i < 2,
                    )
                )
                serial += 1
        return result

    yjj_inspectors = inspectors(
        "13052801",
        [
            ("zfjdg", ["危险化学品", "工贸安全"], 6),
            ("whjgg", ["危险化学品"], 10),
            ("whjcg", ["危险化学品"], 10),
            ("gmjgg", ["工贸安全"], 9),
            ("gmjcg", ["工贸安全"], 9),
        ],
    )
    # The demo SSO users who inspect are registry inspectors too (their assignments show when they log in).
    yjj_inspectors[6].name, yjj_inspectors[6].user_id = (
        "张伟",
        uuid.UUID("00000000-0000-4000-8000-000000000104"),
    )
    yjj_inspectors[16].name, yjj_inspectors[16].user_id = (
        "刘洋",
        uuid.UUID("00000000-0000-4000-8000-000000000105"),
    )
    yjj_inspectors[17].name, yjj_inspectors[17].user_id = (
        "吴静",
        uuid.UUID("00000000-0000-4000-8000-000000000501"),
    )

    fire_objects = []
    for obj in rng.sample(chemicals, 120) + rng.sample(trade, 160):
        fire_objects.append(
            DemoObject(
                uscc=obj.uscc,
                name=obj.name,
                address=obj.address,
                industry=obj.industry,
                tags=["重点单位" if obj.industry == "危化" else rng.choice(["重点单位", "一般单位"])],
                risk_class=_risk(rng),
                status=obj.status,
            )
        )
    fire_inspectors = inspectors("13052802", [("fhjdk", ["消防监督"], 14)])
    fire_inspectors[0].name, fire_inspectors[0].user_id = (
        "黄磊",
        uuid.UUID("00000000-0000-4000-8000-000000000203"),
    )
    fire_inspectors[1].name, fire_inspectors[1].user_id = (
        "吴静",
        uuid.UUID("00000000-0000-4000-8000-000000000501"),
    )

    market_objects = [
        DemoObject(
            uscc=o.uscc,
            name=o.name,
            address=o.address,
            industry=o.industry,
            tags=["一般单位"],
            risk_class=_risk(rng),
            status=o.status,
        )
        for o in rng.sample(trade, 300)
    ]
    market_inspectors = inspectors("13052803", [("zfjck", ["市场监管"], 12)])

    return [
        DemoDepartment(
            code="130528-yjj",
            name="宁晋县应急管理局",
            short_name="县应急管理局",
            sections=[
                ("zfjdg", "执法监督股"),
                ("whjgg", "危化监管股"),
                ("whjcg", "危化监察股"),
                ("gmjgg", "工贸监管股"),
                ("gmjcg", "工贸监察股"),
                ("yjzhzx", "应急指挥中心"),
            ],
            tags=[
                ("行业", "危化"),
                ("行业", "工贸"),
                ("分类标注", "直接监管"),
                ("分类标注", "危险化学品"),
                ("分类标注", "重大危险源"),
                ("分类标注", "粉尘涉爆"),
                ("分类标注", "涉氨制冷"),
                ("分类标注", "有限空间"),
                ("专业特长", "危险化学品"),
                ("专业特长", "工贸安全"),
                ("资质", "行政执法证"),
            ],
            objects=chemicals + trade,
            inspectors=yjj_inspectors,
        ),
        DemoDepartment(
            code="130528-xfjy",
            name="宁晋县消防救援大队",
            short_name="县消防救援大队",
            sections=[("fhjdk", "防火监督科")],
            tags=[
                ("行业", "危化"),
                ("行业", "工贸"),
                ("分类标注", "重点单位"),
                ("分类标注", "一般单位"),
                ("专业特长", "消防监督"),
                ("资质", "行政执法证"),
            ],
            objects=fire_objects,
            inspectors=fire_inspectors,
        ),
        DemoDepartment(
            code="130528-scjg",
            name="宁晋县市场监督管理局",
            short_name="县市场监督管理局",
            sections=[("zfjck", "执法稽查科")],
            tags=[
                ("行业", "工贸"),
                ("分类标注", "一般单位"),
                ("专业特长", "市场监管"),
                ("资质", "行政执法证"),
            ],
            objects=market_objects,
            inspectors=market_inspectors,
        ),
    ]
