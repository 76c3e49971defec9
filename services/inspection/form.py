"""The result-entry form of the field app: its fields ↔ a ``ResultDraft``, and every refusal placed beside its field.

The form's field names are the inputs' names (and ids): ``check_date``, ``outcome_<check point>``, ``note_<check
point>``, ``categories``, ``hazard`` (the hazards' ids, in order) with ``hazard_description_<id>``,
``hazard_severity_<id>`` and ``hazard_rectify_by_<id>``, ``follow_ups``, ``follow_up_target`` and ``summary``. A
form posted by the browser and the field app's JSON (the same names, each with a list of values) read alike. Whatever
was typed is kept in a ``FormState`` and shown again, saved or refused; refusals come back as Chinese messages keyed
by the field they belong to, never as API paths.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import msgspec

from services.inspection.common import FieldErrors
from services.inspection.schemas import (
    EntryView,
    FollowUpIn,
    FollowUpRow,
    HazardIn,
    PointIn,
    PointView,
    ResultDraft,
)
from shared.errors import DomainError, describe_validation

Values = dict[str, list[str]]  # a form's fields by name, each with its values in order

OTHER = "form"  # a refusal that belongs to no one field (shown above the form)
LABELS = {
    "note": "说明",
    "outcome": "检查结论",
    "description": "隐患描述",
    "severity": "隐患等级",
    "rectify_by": "整改期限",
    "summary": "检查情况说明",
    "target": "抄告或移送的部门",
    "check_date": "检查日期",
}


class HazardSlot(msgspec.Struct):
    id: str
    description: str = ""
    severity: str = "一般隐患"
    rectify_by: str = ""


class FormState(msgspec.Struct):
    """What the form shows: the server's copy, or what was just typed (kept whether it was saved or refused)."""

    check_date: str = ""
    outcome: dict[str, str] = msgspec.field(default_factory=dict)
    note: dict[str, str] = msgspec.field(default_factory=dict)
    categories: list[str] = msgspec.field(default_factory=list)
    hazards: list[HazardSlot] = msgspec.field(default_factory=list)
    follow_ups: list[str] = msgspec.field(default_factory=list)
    follow_up_target: str = ""
    summary: str = ""


def new_hazard() -> HazardSlot:
    """An empty hazard with its id given now, so that a photo can be taken at it before it is saved."""
    return HazardSlot(id=str(uuid.uuid4()))


def state_of_view(view: EntryView) -> FormState:
    r = view.result
    return FormState(
        check_date=r.check_date.isoformat() if r and r.check_date else "",
        outcome={str(p.id): p.outcome for p in view.points if p.outcome},
        note={str(p.id): p.note for p in view.points if p.note},
        categories=list(r.categories) if r else [],
        hazards=[
            HazardSlot(
                id=str(h.id),
                description=h.description,
                severity=h.severity,
                rectify_by=h.rectify_by.isoformat() if h.rectify_by else "",
            )
            for h in view.hazards
        ],
        follow_ups=[f.action for f in view.follow_ups],
        follow_up_target=next((f.target for f in view.follow_ups if f.target), ""),
        summary=r.summary if r else "",
    )


def _one(values: Values, name: str) -> str:
    found = values.get(name) or [""]
    return found[0] if isinstance(found[0], str) else ""


def state_of_values(values: Values, points: list[PointView]) -> FormState:
    hazards = []
    for raw in values.get("hazard", []):
        try:
            hid = str(uuid.UUID(raw))
        except ValueError:
            continue
        hazards.append(
            HazardSlot(
                id=hid,
                description=_one(values, f"hazard_description_{hid}"),
                severity=_one(values, f"hazard_severity_{hid}") or "一般隐患",
                rectify_by=_one(values, f"hazard_rectify_by_{hid}"),
            )
        )
    return FormState(
        check_date=_one(values, "check_date"),
        outcome={str(p.id): v for p in points if (v := _one(values, f"outcome_{p.id}"))},
        note={str(p.id): v for p in points if (v := _one(values, f"note_{p.id}"))},
        categories=[c for c in values.get("categories", []) if isinstance(c, str)],
        hazards=hazards,
        follow_ups=[a for a in values.get("follow_ups", []) if isinstance(a, str)],
        follow_up_target=_one(values, "follow_up_target"),
        summary=_one(values, "summary"),
    )


def values_of_form(form: Any) -> Values:
    """A posted form (Litestar's multi-dict) as ``Values``; files are not fields of the result."""
    return {key: [v for v in form.getall(key) if isinstance(v, str)] for key in form}


def _convert(data: dict[str, Any], struct: type[Any], name_of: Any) -> tuple[Any, list[tuple[str, str]]]:
    try:
        return msgspec.convert(data, struct, strict=False), []
    except msgspec.ValidationError as exc:
        field, reason = describe_validation(str(exc))
        key = (field or "").split(".")[-1].split("[")[0]
        label = LABELS.get(key, "")
        return None, [(name_of(key), f"{label}：{reason}" if label else reason)]


def draft_of(
    state: FormState, points: list[PointView], existing: list[FollowUpRow]
) -> tuple[ResultDraft, dict[str, str]]:
    """The draft the form stands for (of the fields that could be read) and the refusals of the others, by field
    name, all at once."""
    errors: list[tuple[str, str]] = []
    check_date: dt.date | None = None
    if state.check_date:
        try:
            check_date = dt.date.fromisoformat(state.check_date)
        except ValueError:
            errors.append(("check_date", "检查日期格式不正确，应为 2023-05-01 这样的日期"))
    answers: list[PointIn] = []
    for p in points:
        pid = str(p.id)
        outcome, note = state.outcome.get(pid, ""), state.note.get(pid, "")
        if not outcome:
            if note.strip():
                errors.append((f"outcome_{pid}", "已填写说明，请先选择检查结论"))
            continue
        data: dict[str, Any] = {"check_point_id": pid, "outcome": outcome, "note": note}
        answer, refused = _convert(
            data, PointIn, lambda k, pid=pid: f"{'note' if k == 'note' else 'outcome'}_{pid}"
        )
        errors += refused
        if answer is not None:
            answers.append(answer)
    hazards: list[HazardIn] = []
    for h in state.hazards:
        if not h.description.strip():
            if h.rectify_by:
                errors.append((f"hazard_description_{h.id}", "请填写隐患描述"))
            continue
        fields: dict[str, Any] = {
            "id": h.id,
            "description": h.description,
            "severity": h.severity,
            "rectify_by": h.rectify_by or None,
        }
        hazard, refused = _convert(fields, HazardIn, lambda k, hid=h.id: f"hazard_{k or 'description'}_{hid}")
        errors += refused
        if hazard is not None:
            hazards.append(hazard)
    known = {f.action: f.id for f in existing}
    follow_ups: list[FollowUpIn] = []
    for action in state.follow_ups:
        data = {"action": action, "target": state.follow_up_target, "id": str(known.get(action) or "")}
        follow_up, refused = _convert(
            {k: v for k, v in data.items() if v},
            FollowUpIn,
            lambda k: "follow_up_target" if k == "target" else "follow_ups",
        )
        errors += refused
        if follow_up is not None:
            follow_ups.append(follow_up)
    rest, refused = _convert(
        {"summary": state.summary, "categories": state.categories},
        ResultDraft,
        lambda k: "summary" if k == "summary" else "categories",
    )
    errors += refused
    draft = ResultDraft(
        check_date=check_date,
        points=answers,
        categories=rest.categories if rest is not None else [],
        summary=rest.summary if rest is not None else "",
        hazards=hazards,
        follow_ups=follow_ups,
    )
    return draft, _first_per_field(errors)


def in_page_order(errors: dict[str, str], points: list[PointView], state: FormState) -> dict[str, str]:
    """The refusals in the order their fields stand on the page (the summary above the form lists them so)."""
    order = ["check_date"]
    for p in points:
        order += [f"outcome_{p.id}", f"note_{p.id}"]
    for h in state.hazards:
        order += [f"hazard_{part}_{h.id}" for part in ("description", "severity", "rectify_by")]
    order += ["categories", "follow_ups", "follow_up_target", "summary"]
    rank = {name: i for i, name in enumerate(order)}
    return dict(sorted(errors.items(), key=lambda e: rank.get(e[0], len(rank))))


def _first_per_field(errors: list[tuple[str, str]]) -> dict[str, str]:
    placed: dict[str, str] = {}
    for field, message in errors:
        placed.setdefault(field, message)
    return placed


_INDEXED = re.compile(r"(points|hazards|categories|follow_ups)\[(\d+)\](?:\.(\w+))?")


def place(
    exc: DomainError,
    state: FormState,
    draft: ResultDraft,
    points: list[PointView],
    hazard_ids: list[uuid.UUID] | None = None,
) -> dict[str, str]:
    """The service's refusals (API paths such as ``points[1].note``) beside the form's fields. ``points[i]`` and
    ``hazards[i]`` count in the draft; on 提交审核, hazards count in the order of the saved result (``hazard_ids``)."""
    errors = exc.errors if isinstance(exc, FieldErrors) else [(exc.field or "", exc.message)]
    placed: list[tuple[str, str]] = []
    for field, message in errors:
        indexed = _INDEXED.fullmatch(field)
        if field == "points":  # some check points have no conclusion yet: each of them says so
            placed += [
                (f"outcome_{p.id}", "请选择检查结论") for p in points if str(p.id) not in state.outcome
            ]
            placed.append((OTHER, message))
        elif field in ("check_date", "categories", "follow_ups", "summary"):
            placed.append((field, message))
        elif field == "hazards":
            placed.append((OTHER, message))
        elif indexed and indexed.group(1) == "points" and int(indexed.group(2)) < len(draft.points):
            pid = draft.points[int(indexed.group(2))].check_point_id
            placed.append((f"{'note' if indexed.group(3) == 'note' else 'outcome'}_{pid}", message))
        elif indexed and indexed.group(1) == "hazards":
            ids = hazard_ids if hazard_ids is not None else [h.id for h in draft.hazards]
            i = int(indexed.group(2))
            part = indexed.group(3) if indexed.group(3) in ("severity", "rectify_by") else "description"
            placed.append((f"hazard_{part}_{ids[i]}" if i < len(ids) else OTHER, message))
        elif indexed:
            placed.append((indexed.group(1), message))
        else:
            placed.append((OTHER, message))
    return _first_per_field(placed)
