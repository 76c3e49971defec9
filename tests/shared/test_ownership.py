"""The table-ownership rules of docs/architecture.md hold in the code.

The architecture doc's tables are the source: "Who owns which table" (one owner per table), "Reads across owners"
(the joins that still read another service's table, each to be replaced by a call to the owner) and "SQL outside
repositories". This test finds the tables each service's SQL names and fails when

* a service writes (INSERT/UPDATE/DELETE/COPY) a table it does not own;
* a service reads a table it does not own and the doc does not list that read — and when the doc lists a read
  that no longer exists, so that the list only shrinks;
* SQL appears in a module of services/ or shared/ that is neither a repository nor listed.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
SQL_START = re.compile(
    r"^\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s|COPY\s)", re.I
)


def _section(title: str) -> list[list[str]]:
    """The rows of the first Markdown table under the heading ``title`` (cells without backticks)."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([c.strip().strip("`") for c in line.strip().strip("|").split("|")])
    return rows[1:]  # without the header row


def _owners() -> dict[str, str]:
    owners: dict[str, str] = {}
    for row in _section("Who owns which table"):
        owner = row[0]
        for table in row[1].replace("`", "").split(","):
            table = table.strip()
            assert table not in owners, f"{table} has two owners in the doc"
            owners[table] = owner
    return owners


def _modules() -> list[tuple[str, Path]]:
    """(owner, file) for every module of services/ and shared/."""
    found = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        found.append((path.relative_to(ROOT / "services").parts[0], path))
    for path in sorted((ROOT / "shared").rglob("*.py")):
        found.append(("shared", path))
    return found


def _sql_strings(path: Path) -> list[str]:
    """String literals (and f-strings' literal parts joined) of a module that hold SQL."""
    strings = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            strings.append("".join(v.value for v in node.values if isinstance(v, ast.Constant)))
    return strings


def _uses(owners: dict[str, str]) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]], set[str]]:
    names = "|".join(sorted(owners, key=len, reverse=True))
    reads = re.compile(rf"\b(?:FROM|JOIN)\s+({names})\b", re.I)
    writes = re.compile(rf"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+({names})\b", re.I)
    read, written, sql_files = set(), set(), set()
    for service, path in _modules():
        text = "\n".join(_sql_strings(path))
        if any(SQL_START.match(s) for s in _sql_strings(path)):
            sql_files.add(str(path.relative_to(ROOT)))
        for m in reads.finditer(text):
            read.add((service, m.group(1)))
        for m in writes.finditer(text):
            written.add((service, m.group(1), str(path.relative_to(ROOT))))
    return read, written, sql_files


def test_every_table_of_the_migrations_has_one_owner() -> None:
    owners = _owners()
    created = set()
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        created |= set(
            re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)", path.read_text(encoding="utf-8"))
        )
    assert created, "no CREATE TABLE found in migrations/versions"
    assert created - set(owners) == set(), "tables without an owner in docs/architecture.md"
    assert set(owners) - created == set(), "the doc names tables the migrations do not create"


def test_only_the_owner_writes_a_table() -> None:
    owners = _owners()
    _, written, _ = _uses(owners)
    foreign = sorted((path, table) for service, table, path in written if owners[table] != service)
    assert foreign == [], "a service writes another service's table; call the owner's service instead"


def test_reads_across_owners_are_the_listed_ones() -> None:
    owners = _owners()
    read, _, _ = _uses(owners)
    actual = {(service, table) for service, table in read if owners[table] != service}
    listed = set()
    for row in _section("Reads across owners"):
        for table in row[1].split(","):
            listed.add((row[0], table.strip()))
    assert sorted(actual - listed) == [], "a new read of another service's table: call the owner's service"
    assert sorted(listed - actual) == [], "a listed read is gone: remove it from docs/architecture.md"


def test_sql_lives_in_repositories_or_listed_modules() -> None:
    _, _, sql_files = _uses(_owners())
    outside = {f for f in sql_files if "repository" not in Path(f).name}
    listed = {row[0] for row in _section("SQL outside repositories")}
    assert sorted(outside - listed) == [], "SQL in a new module: put it in the service's repository"
    assert sorted(listed - outside) == [], "a listed module has no SQL any more: remove it from the doc"


def test_every_repository_module_is_protected_by_an_import_contract() -> None:
    """lint-imports keeps a repository to its own service only if the module is named in a protected contract."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    protected: dict[str, set[str]] = {}
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "protected":
            for module in contract["protected_modules"]:
                protected[module] = set(contract["allowed_importers"])
    for path in sorted((ROOT / "services").glob("*/*repository*.py")):
        service = path.parent.name
        module = f"services.{service}.{path.stem}"
        assert protected.get(module) == {f"services.{service}"}, (
            f"{module} is not protected for {service} only"
        )
