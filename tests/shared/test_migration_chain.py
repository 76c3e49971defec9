"""One linear migration history: exactly one head, every revision reachable from it."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from shared.migrate import alembic_config


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused@/unused"))
    assert len(script.get_heads()) == 1, (
        f"several heads: {script.get_heads()} — set down_revision to the head"
    )
    chain = list(script.walk_revisions())  # from the head down to the first revision
    assert [r.down_revision for r in chain][-1] is None
    assert all(isinstance(r.down_revision, str) for r in chain[:-1]), "merge or branch points found"
