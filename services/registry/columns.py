"""The columns of each registry's spreadsheet: template, import and export all use these, in this order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["items", "objects", "inspectors"]
KINDS: tuple[Kind, ...] = ("items", "objects", "inspectors")
KIND_LABELS = {"items": "随机抽查事项清单", "objects": "检查对象名录库", "inspectors": "执法检查人员名录库"}


@dataclass(frozen=True)
class Column:
    key: str  # staging column name (SQL identifier)
    header: str  # Chinese header in the template and the export
    required: bool = False
    hint: str = ""
    aliases: tuple[str, ...] = ()
    width: int = 16


OBJECT_COLUMNS = (
    Column(
        "uscc",
        "统一社会信用代码",
        True,
        "18位，末位为校验码；请设为文本格式",
        ("信用代码", "社会信用代码", "统一代码", "统一信用代码", "社会统一信用代码", "信用代码证号"),
        22,
    ),
    Column(
        "name",
        "单位名称",
        True,
        "",
        (
            "名称",
            "企业名称",
            "对象名称",
            "企业(单位)名称",
            "单位(企业)名称",
            "检查对象名称",
            "市场主体名称",
            "生产经营单位名称",
        ),
        30,
    ),
    Column(
        "address",
        "地址",
        False,
        "",
        ("单位地址", "注册地址", "经营地址", "住所", "详细地址", "经营场所", "生产经营地址"),
        36,
    ),
    Column(
        "region_code",
        "行政区划代码",
        False,
        "6、9或12位数字",
        ("区划代码", "行政区划", "所属区划代码", "区域代码"),
    ),
    Column(
        "industry", "行业", True, "本部门标签字库“行业”类", ("所属行业", "行业类别", "行业分类", "行业类型")
    ),
    Column("object_type", "对象类型", False, "留空为“企业”", ("主体类型", "检查对象类型")),
    Column(
        "tags",
        "分类标注",
        False,
        "多个用“；”分隔，须在本部门标签字库“分类标注”类中",
        ("标签", "监管分类", "分类"),
        24,
    ),
    Column(
        "hazard_level",
        "重大危险源等级",
        False,
        "一级/二级/三级/四级，无则留空",
        ("重大危险源", "重大危险源级别", "危险源等级"),
    ),
    Column(
        "direct",
        "是否直接监管",
        False,
        "是/否，留空为“是”",
        ("直接监管", "是否为直接监管对象", "直接监管对象"),
    ),
    Column(
        "risk_class",
        "信用风险分类",
        False,
        "A/B/C/D（A风险最低）",
        ("风险等级", "信用风险等级", "风险分类", "信用风险类别", "信用风险", "信用等级"),
    ),
    Column("status", "经营状态", False, "在营/停业/注销，留空为“在营”", ("状态", "登记状态", "企业状态")),
    Column("licence_no", "许可证号", False, "", ("许可证编号", "许可证号码", "许可证书编号", "证照编号"), 24),
    Column(
        "licence_expiry",
        "许可证有效期至",
        False,
        "YYYY-MM-DD",
        ("许可证有效期", "有效期至", "许可证到期日", "许可证有效期限"),
    ),
)

INSPECTOR_COLUMNS = (
    Column(
        "licence_no",
        "执法证号",
        True,
        "本部门内唯一",
        ("执法证编号", "证件号", "执法证件号", "执法证件编号", "执法证号码", "证号"),
        18,
    ),
    Column("name", "姓名", True, "", ("人员姓名", "执法人员姓名", "检查人员姓名"), 10),
    Column(
        "section", "所属股室", False, "本部门股室名称", ("股室", "科室", "所在科室", "所在股室", "科室(股室)")
    ),
    Column(
        "licence_expiry",
        "执法证有效期至",
        True,
        "YYYY-MM-DD，不得早于今天",
        ("执法证有效期", "有效期", "有效期至", "证件有效期", "执法证到期日", "执法证有效期限"),
    ),
    Column(
        "specialties",
        "专业特长",
        False,
        "多个用“；”分隔，须在标签字库“专业特长”类中",
        ("专业", "专业领域", "擅长领域"),
        22,
    ),
    Column(
        "qualifications", "资质", False, "多个用“；”分隔，须在标签字库“资质”类中", ("资格", "资质证书"), 18
    ),
    Column("is_expert", "是否专家", False, "是/否", ("专家", "是否为专家")),
    Column("is_team_leader", "可任组长", False, "是/否", ("组长", "是否组长", "能否任组长", "是否可任组长")),
    Column("phone", "联系电话", False, "", ("电话", "手机", "手机号", "手机号码", "联系方式"), 14),
    Column(
        "conflicts",
        "回避企业统一社会信用代码",
        False,
        "申报有利害关系的企业，多个用“；”分隔",
        ("回避企业", "回避企业信用代码", "需回避企业"),
        30,
    ),
    Column("status", "人员状态", False, "在岗/停用，留空为“在岗”", ("状态", "在岗状态")),
)

ITEM_COLUMNS = (
    Column("code", "事项编码", True, "本部门内唯一", ("编码", "事项编号", "事项代码"), 12),
    Column("name", "事项名称", True, "", ("抽查事项", "抽查事项名称", "检查事项"), 30),
    Column("category", "抽查类别", True, "重点/一般", ()),
    Column("item_type", "事项类别", False, "", ()),
    Column("object_type", "检查对象类型", False, "", ("检查对象",)),
    Column(
        "check_points",
        "抽查内容",
        False,
        "每行一条检查要点（单元格内按 Alt+Enter 换行）",
        ("检查内容", "检查要点"),
        40,
    ),
    Column(
        "check_methods",
        "检查方式",
        False,
        "现场检查/书面检查/网络监测/抽样检测/信息核查，多个用“；”分隔",
        ("抽查方式",),
        18,
    ),
    Column("legal_basis", "检查依据", False, "", ("法律依据", "依据"), 36),
    Column("subject", "检查主体", False, "", ("实施主体",), 20),
    Column("ratio_frequency", "抽查比例和频次", False, "", ("抽查比例", "抽查比例及频次", "抽查频次"), 24),
    Column("specialties", "所需专业", False, "须在标签字库“专业特长”类中", ("专业要求",), 18),
)

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "items": ITEM_COLUMNS,
    "objects": OBJECT_COLUMNS,
    "inspectors": INSPECTOR_COLUMNS,
}
# The business key a re-import upserts on.
KEYS: dict[Kind, str] = {"items": "code", "objects": "uscc", "inspectors": "licence_no"}


def header_of(kind: Kind, key: str) -> str:
    return next(c.header for c in COLUMNS[kind] if c.key == key)
