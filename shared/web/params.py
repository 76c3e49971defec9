"""Query and path parameters with the boundary's limits (see :mod:`shared.boundary`), stated in the schema."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

# A search word or a filter value typed by a person.
QueryText = Annotated[str | None, Parameter(max_length=100, description="检索词或筛选值（不超过100个字符）")]
# An identifier in the path that the handler parses itself (so that a malformed one is a clear 404).
PathId = Annotated[str, Parameter(max_length=64, description="编号")]
PathUscc = Annotated[str, Parameter(max_length=40, description="统一社会信用代码")]
PageNumber = Annotated[int, Parameter(ge=1, le=100_000, description="页码")]
OptionalPage = Annotated[int | None, Parameter(ge=1, le=100_000, description="页码")]
PageSize = Annotated[int, Parameter(ge=1, le=500, description="每页条数")]
YearNumber = Annotated[int, Parameter(ge=2000, le=2100, description="年度")]
OptionalYear = Annotated[int | None, Parameter(ge=2000, le=2100, description="年度")]
MonthNumber = Annotated[int, Parameter(ge=1, le=12, description="月份")]
AnnexNumber = Annotated[int, Parameter(ge=1, le=3, description="附件序号（1–3）")]
FileFormat = Annotated[str, Parameter(max_length=10, description="文件格式：csv 或 xlsx")]
IdList = Annotated[str | None, Parameter(max_length=4000, description="以逗号分隔的编号")]
SearchText = Annotated[str, Parameter(max_length=100, description="检索词（不超过100个字符）")]
UrlText = Annotated[str | None, Parameter(max_length=2000, description="站内地址或回调参数")]
OAuthText = Annotated[str, Parameter(max_length=2000, description="登录回调参数")]
