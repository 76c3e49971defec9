"""``--shuffle-modules SEED``: run the test modules in a random order (tests inside a module keep theirs).

All tests of a session share one database, Redis and app server, so a test that silently depends on what an earlier
one wrote (or did not write) passes in the usual order and fails in another. CI runs the usual order; this option is
for checking, by hand, that no such dependency has crept in. The project's grouping is kept: plain tests, then
browser tests, then the fuzzer (see ``tests/conftest.py``)."""

from __future__ import annotations

import random

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shuffle-modules",
        type=int,
        default=None,
        metavar="SEED",
        help="run test modules in a random order fixed by SEED, within the plain/e2e/fuzz groups",
    )


def group(item: pytest.Item) -> int:
    path = str(item.fspath)
    return 2 if "/fuzz/" in path else 1 if "/e2e/" in path else 0


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seed = config.getoption("--shuffle-modules")
    if seed is None:
        return
    rng = random.Random(seed)
    ordered: list[pytest.Item] = []
    for g in (0, 1, 2):
        modules: dict[str, list[pytest.Item]] = {}
        for item in items:
            if group(item) == g:
                modules.setdefault(item.nodeid.split("::")[0], []).append(item)
        names = list(modules)
        rng.shuffle(names)
        ordered += [item for name in names for item in modules[name]]
    items[:] = ordered
