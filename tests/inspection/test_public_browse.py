"""The public site beyond a search: filters by department, year and result category; statistics per department; an
enterprise's page (published checks and 已抽中，检查中); friendly pages for what is not (yet) public.

The registers are planted for a department of the test's own (``public_plant``), so the expected figures are known
exactly; the real publication path is covered by tests/inspection/test_results_api.py and the browser journey."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from services.disclosure.public_stats import percent
from services.disclosure.schemas import RESULT_CATEGORIES
from services.inspection.schemas import CATEGORIES
from shared import workdays
from tests.inspection.public_plant import Planted, plant
from tests.planning.conftest import http  # noqa: F401 (fixture)

YEAR = 2036  # published records of this year come only from this module's planted department


@pytest.fixture(scope="module")
def planted(db_urls: dict[str, str], app_server: object) -> Planted:
    return plant(db_urls, YEAR)


def test_the_public_vocabulary_of_categories_is_inspections() -> None:
    assert RESULT_CATEGORIES == CATEGORIES


def test_filters_by_department_year_and_category(http: httpx.Client, planted: Planted) -> None:  # noqa: F811
    mine = {"department": planted.code}
    first = http.get("/api/public/results", params=mine).json()
    assert first["more"] is True and len(first["results"]) == 20
    second = http.get("/api/public/results", params={**mine, "page": 2}).json()
    assert second["more"] is False and len(second["results"]) == 5
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert sorted(ids) == sorted(str(r["id"]) for r in planted.records)  # every record once, none of others
    newest_first = [r["published_at"] for r in first["results"] + second["results"]]
    assert newest_first == sorted(newest_first, reverse=True)

    found = http.get(
        "/api/public/results", params={**mine, "year": YEAR, "category": "发现问题已责令改正"}
    ).json()["results"]
    expected = {str(r["id"]) for r in planted.records if r["categories"] == ["发现问题已责令改正"]}
    assert {r["id"] for r in found} == expected and len(expected) == 4
    assert http.get("/api/public/results", params={**mine, "year": YEAR - 1}).json()["results"] == []
    # A query and a filter together: a part of the name within the department.
    by_name = http.get("/api/public/results", params={**mine, "q": f"{planted.name_stem}测试企业0"}).json()
    assert {r["enterprise_name"] for r in by_name["results"]} == {
        r["enterprise_name"] for r in planted.records if "测试企业0" in r["enterprise_name"]
    }
    # Cacheable like the search: an ETag, and a 304 on revalidation.
    answer = http.get("/api/public/results", params={**mine, "year": YEAR})
    again = http.get(
        "/api/public/results",
        params={**mine, "year": YEAR},
        headers={"If-None-Match": answer.headers["etag"]},
    )
    assert again.status_code == 304

    # The page: labelled filters, the planted department's records only, a next page.
    page = http.get("/public", params={**mine, "year": YEAR}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    for label in (
        '<label for="department">实施部门',
        '<label for="year">公示年度',
        '<label for="category">检查结果',
    ):
        assert label in page.text
    assert page.text.count('class="pub-name"') == 20 and 'id="next-page"' in page.text


def test_bad_filters_are_refused_in_chinese(http: httpx.Client) -> None:  # noqa: F811
    bad = http.get("/api/public/results", params={"category": "很好"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "category"
    assert "检查结果类别" in bad.json()["error"]["message"]
    over = http.get("/api/public/results", params={"department": "x", "page": 51})
    assert over.status_code == 422 and over.json()["error"]["field"] == "page"
    year = http.get("/api/public/results", params={"year": 1999})
    assert year.status_code == 422
    page = http.get("/public", params={"category": "很好"}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "检查结果类别不存在" in page.text and 'id="search-error"' in page.text
    # Nothing matches: a page that says why, not a bare "暂无".
    none = http.get("/public", params={"q": "不存在的企业名称甲乙丙"}, headers={"Accept": "text/html"})
    assert 'id="no-results"' in none.text and "可能的原因" in none.text


def _independent_statistics(planted: Planted) -> dict[str, int]:
    published = [r for r in planted.records if r["published_at"].year == YEAR]
    judged = [r for r in published if not r["back_entry"]]
    on_time = [
        r
        for r in judged
        if r["published_at"].astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        <= workdays.disclosure_deadline(r["check_date"]).due
    ]
    return {
        "drawn": sum(d["selected_count"] for d in planted.draws if d["status"] == "已抽取"),
        "draws": sum(1 for d in planted.draws if d["status"] == "已抽取"),
        "checked": sum(1 for r in planted.records if r["check_date"].year == YEAR),
        "published": len(published),
        "on_time": len(on_time),
        "on_time_of": len(judged),
        "back_entry": len(published) - len(judged),
    }


def test_statistics_per_department(http: httpx.Client, planted: Planted) -> None:  # noqa: F811
    stats = http.get("/api/public/statistics", params={"year": YEAR})
    assert stats.status_code == 200 and "max-age" in stats.headers["cache-control"]
    rows = {d["code"]: d for d in stats.json()["departments"]}
    mine = rows[planted.code]
    expected = _independent_statistics(planted)
    assert {k: mine[k] for k in expected} == expected
    assert expected["on_time"] == 21 and expected["on_time_of"] == 24  # three late, one back-entered
    assert mine["name"] == planted.name
    total = stats.json()["total"]
    assert total["published"] == sum(d["published"] for d in rows.values())

    page = http.get("/public/statistics", params={"year": YEAR}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and planted.name in page.text
    assert (
        f'<td data-label="按时公示率" class="num" data-k="on_time_rate">{percent(21, 24)}</td>' in page.text
    )
    assert percent(21, 24) == "87.5%" and percent(1, 20) == "5%" and percent(0, 0) == "—"
    # A year with nothing: a page that says so.
    empty = http.get("/public/statistics", params={"year": 2001}, headers={"Accept": "text/html"})
    assert empty.status_code == 200 and 'id="statistics-empty"' in empty.text


def test_enterprise_page_published_and_drawn_not_published(http: httpx.Client, planted: Planted) -> None:  # noqa: F811
    both = http.get(f"/api/public/enterprises/{planted.published_uscc}").json()
    assert [r["id"] for r in both["published"]] == [str(planted.records[0]["id"])]
    # Drawn again by task B, whose result is not published: 已抽中，检查中.
    assert [d["task_id"] for d in both["in_progress"]] == [str(planted.task_b)]
    page = http.get(f"/public/enterprises/{planted.published_uscc}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "已抽中，检查中" in page.text and 'id="published-checks"' in page.text

    drawn = http.get(f"/api/public/enterprises/{planted.drawn_only_uscc}").json()
    assert drawn["published"] == [] and drawn["name"] == f"{planted.name_stem}抽中待查有限公司"
    assert [d["draw_id"] for d in drawn["in_progress"]] == [str(planted.draws[0]["draw_id"])]
    page = http.get(f"/public/enterprises/{planted.drawn_only_uscc.lower()}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "已抽中，检查中" in page.text and "暂无已公示的检查结果" in page.text

    # A voided draw is not a check in progress; an enterprise nobody drew is a friendly 404.
    for unknown in (planted.voided_uscc, "91990000000000000X"):
        assert http.get(f"/api/public/enterprises/{unknown}").status_code == 404
        page = http.get(f"/public/enterprises/{unknown}", headers={"Accept": "text/html"})
        assert page.status_code == 404 and "暂无该企业的抽查信息" in page.text
        assert "回到工作台" not in page.text and 'href="/public"' in page.text
    bad = http.get("/api/public/enterprises/123")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "uscc"
    assert http.get("/public/enterprises/123", headers={"Accept": "text/html"}).status_code == 422


def test_friendly_pages_for_tasks_and_records_not_public(http: httpx.Client, planted: Planted) -> None:  # noqa: F811
    html = {"Accept": "text/html"}
    # Task B is drawn, nothing is published yet: a page that says so, with its draw.
    waiting = http.get(f"/public/tasks/{planted.task_b}", headers=html)
    assert waiting.status_code == 200 and 'id="task-nothing-yet"' in waiting.text
    assert f"/public/draws/{planted.draws[0]['draw_id']}" in waiting.text and "回到工作台" not in waiting.text
    # Task A has published records.
    done = http.get(f"/public/tasks/{planted.task_a}", headers=html)
    assert done.status_code == 200 and done.text.count("/public/results/") == 25
    # Unknown task, unknown record: 404 pages of the public site.
    for path in (f"/public/tasks/{uuid.uuid4()}", f"/public/results/{uuid.uuid4()}"):
        page = http.get(path, headers=html)
        assert page.status_code == 404 and 'id="public-missing"' in page.text
        assert "回到工作台" not in page.text and "None" not in page.text
    assert http.get(f"/api/public/results/{uuid.uuid4()}").status_code == 404
