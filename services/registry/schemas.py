"""API shapes of the registries. Inputs forbid unknown fields, so a misspelt field is an error, not a silent no-op."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from shared import boundary
from shared.boundary import Note, Reason, Text40, Text200, Text1000

HazardLevel = Annotated[int, msgspec.Meta(ge=1, le=4, description="重大危险源等级：1–4 级")]


class ObjectStatus(StrEnum):
    OPERATING = "在营"
    SUSPENDED = "停业"
    DEREGISTERED = "注销"


class ImportStatus(StrEnum):
    """States of an import batch (stored in English: never shown; pages map them to Chinese)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Input(boundary.Input, kw_only=True):
    """Required fields default to empty here and are enforced by the service, which names the missing field in
    its error (msgspec would report the request body as a whole)."""


# ---- tags -------------------------------------------------------------------------------------------------------
class TagIn(Input):
    category: Text40 = ""
    name: Text40 = ""
    description: Text200 = ""


class TagPatch(Input):
    name: Text40 | UnsetType = UNSET
    description: Text200 | UnsetType = UNSET


class TagOut(msgspec.Struct):
    id: uuid.UUID
    category: str
    name: str
    description: str
    active: bool
    department_code: str


# ---- objects ----------------------------------------------------------------------------------------------------
class ObjectIn(Input):
    uscc: Text40 = ""
    name: Text200 = ""
    industry: Text40 = ""
    address: Text1000 = ""
    region_code: Text40 | None = None
    object_type: Text200 = "企业"
    tags: list[Text40] = msgspec.field(default_factory=list)
    major_hazard_level: HazardLevel | None = None
    direct_supervision: bool = True
    risk_class: Text40 | None = None
    status: Text40 = ObjectStatus.OPERATING.value
    licence_no: Text200 = ""
    licence_expiry: date | None = None


class ObjectPatch(Input):
    uscc: Text40 | UnsetType = UNSET
    name: Text200 | UnsetType = UNSET
    industry: Text40 | UnsetType = UNSET
    address: Text1000 | UnsetType = UNSET
    region_code: Text40 | UnsetType | None = UNSET
    object_type: Text200 | UnsetType = UNSET
    tags: list[Text40] | UnsetType = UNSET
    major_hazard_level: HazardLevel | UnsetType | None = UNSET
    direct_supervision: bool | UnsetType = UNSET
    risk_class: Text40 | UnsetType | None = UNSET
    status: Text40 | UnsetType = UNSET
    licence_no: Text200 | UnsetType = UNSET
    licence_expiry: date | UnsetType | None = UNSET


class ObjectOut(msgspec.Struct):
    id: uuid.UUID
    uscc: str
    name: str
    address: str
    region_code: str | None
    industry: str
    object_type: str
    tags: list[str]
    major_hazard_level: int | None
    direct_supervision: bool
    risk_class: str | None
    status: ObjectStatus
    licence_no: str
    licence_expiry: date | None
    last_checked_on: date | None
    active: bool
    department_code: str
    updated_at: datetime


class ObjectPage(msgspec.Struct):
    items: list[ObjectOut]
    total: int
    page: int
    page_size: int


# ---- inspectors -------------------------------------------------------------------------------------------------
class InspectorIn(Input):
    name: Text200 = ""
    licence_no: Text200 = ""
    licence_expiry: date | None = None
    section_id: uuid.UUID | None = None
    specialties: list[Text40] = msgspec.field(default_factory=list)
    qualifications: list[Text40] = msgspec.field(default_factory=list)
    is_expert: bool = False
    is_team_leader: bool = False
    phone: Text40 = ""


class InspectorPatch(Input):
    name: Text200 | UnsetType = UNSET
    licence_no: Text200 | UnsetType = UNSET
    licence_expiry: date | UnsetType = UNSET
    section_id: uuid.UUID | UnsetType | None = UNSET
    specialties: list[Text40] | UnsetType = UNSET
    qualifications: list[Text40] | UnsetType = UNSET
    is_expert: bool | UnsetType = UNSET
    is_team_leader: bool | UnsetType = UNSET
    phone: Text40 | UnsetType = UNSET


class ConflictIn(Input):
    uscc: Text40 = ""
    reason: Reason = ""


class ConflictOut(msgspec.Struct):
    uscc: str
    reason: str
    declared_on: date
    enterprise_name: str | None = None


class InspectorOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    licence_no: str
    licence_expiry: date | None
    licence_valid: bool
    section_id: uuid.UUID | None
    section_name: str | None
    specialties: list[str]
    qualifications: list[str]
    is_expert: bool
    is_team_leader: bool
    phone: str
    active: bool
    department_code: str
    conflicts: list[ConflictOut] = msgspec.field(default_factory=list)


class InspectorPage(msgspec.Struct):
    items: list[InspectorOut]
    total: int
    page: int
    page_size: int


# ---- items ------------------------------------------------------------------------------------------------------
class ItemIn(Input):
    code: Text200 = ""
    name: Text200 = ""
    category: Text40 = ""
    item_type: Text200 = ""
    object_type: Text200 = ""
    check_points: list[Text1000] = msgspec.field(default_factory=list)
    check_methods: list[Text200] = msgspec.field(default_factory=list)
    legal_basis: Note = ""
    subject: Text200 = ""
    ratio_frequency: Text200 = ""
    specialties: list[Text40] = msgspec.field(default_factory=list)


class ItemPatch(Input):
    code: Text200 | UnsetType = UNSET
    name: Text200 | UnsetType = UNSET
    category: Text40 | UnsetType = UNSET
    item_type: Text200 | UnsetType = UNSET
    object_type: Text200 | UnsetType = UNSET
    check_points: list[Text1000] | UnsetType = UNSET
    check_methods: list[Text200] | UnsetType = UNSET
    legal_basis: Note | UnsetType = UNSET
    subject: Text200 | UnsetType = UNSET
    ratio_frequency: Text200 | UnsetType = UNSET
    specialties: list[Text40] | UnsetType = UNSET


class ItemOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    category: str
    item_type: str
    object_type: str
    check_points: list[str]
    check_methods: list[str]
    legal_basis: str
    subject: str
    ratio_frequency: str
    specialties: list[str]
    active: bool
    department_code: str


class ItemPage(msgspec.Struct):
    items: list[ItemOut]
    total: int
    page: int
    page_size: int


# ---- imports ----------------------------------------------------------------------------------------------------
class RowErrorOut(msgspec.Struct):
    row: int
    column: str
    reason: str
    value: str = ""


class ImportBatchOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    status: ImportStatus
    phase: str
    progress: float
    filename: str
    replace_all: bool
    total_rows: int
    added: int
    updated: int
    unchanged: int
    deactivated: int
    error_count: int
    errors: list[RowErrorOut]
    message: str
    created_by_name: str
    created_at: datetime
    finished_at: datetime | None
    annotated: bool = (
        False  # a copy of the rejected file with the bad cells marked: GET …/imports/{id}/annotated
    )


class ImportErrorDetail(msgspec.Struct):
    """The 422 of an import with bad rows: the error body of ``ImportRejected`` and the batch that records it."""

    code: str
    message: str
    field: str | None
    rows: list[RowErrorOut]
    error_count: int
    total_rows: int
    batch_id: str | None


class ImportErrorOut(msgspec.Struct):
    error: ImportErrorDetail


# ---- list filters (API query, page query, export) -------------------------------------------------------------------
class ObjectFilter(msgspec.Struct, kw_only=True):
    q: str | None = None
    uscc: str | None = None
    industry: str | None = None
    tag: str | None = None
    risk_class: str | None = None
    status: str | None = None
    active: bool | None = None
    department: str | None = None


class InspectorFilter(msgspec.Struct, kw_only=True):
    q: str | None = None
    section: str | None = None
    specialty: str | None = None
    qualification: str | None = None
    is_expert: bool | None = None
    is_team_leader: bool | None = None
    licence: str | None = None  # valid | expiring | expired; anything else does not filter
    active: bool | None = None
    department: str | None = None


class ItemFilter(msgspec.Struct, kw_only=True):
    q: str | None = None
    category: str | None = None
    active: bool | None = None
    department: str | None = None


class SectionOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str


class CheckPointRef(msgspec.Struct, frozen=True):
    """A check point of an item, with its id (a task may choose a subset of its items' check points)."""

    id: uuid.UUID
    item_id: uuid.UUID
    seq: int
    content: str


class RegistryHealth(msgspec.Struct):
    """What a department admin should look at in the registries (the 工作台's registry panel)."""

    objects: int  # active, in business
    objects_unclassified: int  # without a credit risk class (a per-class draw cannot be announced)
    inspectors: int  # active
    licences_expired: int  # active inspectors whose enforcement licence has expired or has no expiry date
    licences_expiring: int  # … expiring within 30 days
    items: int  # active
    items_without_points: int  # active items without check points
