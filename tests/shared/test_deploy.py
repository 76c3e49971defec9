"""The deployment files stay in step with the code: commands parse, variables exist, production settings load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from shared.cli import build_parser
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
