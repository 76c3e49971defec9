"""Rules of results (谁检查、谁录入), review (待审核 → 退回 / 通过 → 已公示), hazards, follow-up and attachments.

The public surface of inspection's rules, one module per concern: reading (``views``), entry (``entry``), review
(``review``), rechecks and follow-up (``followup``), attachments (``attachments``); what they share is in ``common``.
"""

from __future__ import annotations

from services.inspection.attachments import (
    TooLarge,
    UnsupportedMedia,
    add_attachment,
    attachment,
    max_attachment_bytes,
    remove_attachment,
    sniff,
)
from services.inspection.common import EDITABLE, REVIEWERS, is_overdue
from services.inspection.entry import save_draft, validate
from services.inspection.followup import close_followup, recheck
from services.inspection.review import TRANSITIONS, approve, planning_items, return_result, submit
from services.inspection.views import entry_of, entry_view, list_results, result_detail

__all__ = [
    "EDITABLE",
    "REVIEWERS",
    "TRANSITIONS",
    "TooLarge",
    "UnsupportedMedia",
    "add_attachment",
    "approve",
    "attachment",
    "close_followup",
    "entry_of",
    "entry_view",
    "is_overdue",
    "list_results",
    "max_attachment_bytes",
    "planning_items",
    "recheck",
    "remove_attachment",
    "result_detail",
    "return_result",
    "save_draft",
    "sniff",
    "submit",
    "validate",
]
