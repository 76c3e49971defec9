from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.stack import SSO, AppServer


class Api:
    """An HTTP client acting as one demo user (and optionally one of their departments)."""

    def __init__(self, client: httpx.Client, sso: SSO, username: str, department: str | None = None) -> None:
        self.client, self.sso, self.username, self.department = client, sso, username, department

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.sso.token(self.username)}"}
        if self.department:
            headers["X-Department"] = self.department
        return headers

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(), **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers(), json=json if json is not None else {}, **kw)


@pytest.fixture(scope="session")
def http(app_server: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_server.url, timeout=60) as client:
        yield client


@pytest.fixture
def as_user(http: httpx.Client, sso: SSO):
    def make(username: str, department: str | None = None) -> Api:
        return Api(http, sso, username, department)

    return make


SEED_TASK_2023001 = {
    "name": "宁晋县应急管理局2023年度危化企业“双随机”内部联合抽查",
    "draw_type": "定向",
    "class_ratios": {"A": "5%", "B": "5%", "C": "5%", "D": "5%"},
    "ratio_note": "5%（运用企业信用风险分级分类开展）",
    "item_codes": ["YJ-001"],
    "item_note": "对危化企业安全生产的检查",
    "scope": {"industries": ["危化"], "direct_supervision_only": True},
    "scope_note": "2023年直接监管危化行业",
    "start_month": "2023-05",
    "end_month": "2023-06",
    "min_inspectors": 2,
}
