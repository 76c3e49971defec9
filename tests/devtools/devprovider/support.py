"""Shared test helpers: the realm file to use and a real uvicorn server on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from devtools.devprovider import create_dev_provider_app

REPO = Path(__file__).resolve().parents[3]
REAL_REALM_FILE = REPO / "deploy" / "keycloak" / "realm-county-130528.json"
REALM = "county-130528"


def _uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _user(name: str, n: int, first: str, last: str, roles: list[str], groups: list[str]) -> dict[str, Any]:
    return {
        "id": _uid(n),
        "username": name,
        "firstName": first,
        "lastName": last,
        "email": f"{name}@example.test",
        "emailVerified": True,
        "enabled": True,
        "credentials": [{"type": "password", "value": "demo", "temporary": False}],
        "realmRoles": roles,
        "groups": groups,
    }


def fixture_realm() -> dict[str, Any]:
    """Stand-in with the planned content, in Keycloak 26 export shape."""
    yjj = ["zfjdg", "whjgg", "whjcg", "gmjgg", "gmjcg", "yjzhzx"]
    users = [
        _user("yjj-admin", 101, "建国", "王", ["dept-admin"], ["/130528-yjj/zfjdg"]),
        _user("yjj-planner", 102, "明", "李", ["planner"], ["/130528-yjj/zfjdg"]),
        _user("yjj-reviewer", 103, "丽", "赵", ["reviewer"], ["/130528-yjj/zfjdg"]),
        _user("yjj-insp-whjg", 104, "伟", "张", ["inspector"], ["/130528-yjj/whjgg"]),
        _user("yjj-insp-whjc", 105, "洋", "刘", ["inspector"], ["/130528-yjj/whjcg"]),
        _user("xf-admin", 201, "刚", "陈", ["dept-admin"], ["/130528-xfjy/fhjdk"]),
        _user("xf-planner", 202, "帆", "杨", ["planner"], ["/130528-xfjy/fhjdk"]),
        _user("xf-inspector", 203, "磊", "黄", ["inspector"], ["/130528-xfjy/fhjdk"]),
        _user("scjg-admin", 301, "敏", "周", ["dept-admin"], ["/130528-scjg/zfjck"]),
        _user("county-overseer", 401, "强", "孙", ["county-overseer"], []),
        _user(
            "multi-dept",
            501,
            "静",
            "吴",
            ["planner", "inspector"],
            ["/130528-yjj/whjcg", "/130528-xfjy/fhjdk"],
        ),
        {
            "id": _uid(901),
            "username": "service-account-spotcheck-provisioner",
            "enabled": True,
            "serviceAccountClientId": "spotcheck-provisioner",
            "realmRoles": [],
            "clientRoles": {"realm-management": ["manage-users", "view-users"]},
        },
    ]

    def org(alias: str, name: str, members: list[str]) -> dict[str, Any]:
        return {
            "alias": alias,
            "name": name,
            "enabled": True,
            "members": [{"username": m, "membershipType": "UNMANAGED"} for m in members],
        }

    audience = [
        {
            "name": "audience spotcheck-api",
            "protocolMapper": "oidc-audience-mapper",
            "config": {"included.client.audience": "spotcheck-api", "access.token.claim": "true"},
        }
    ]
    scopes = ["acr", "basic", "email", "organization:*", "profile", "roles", "web-origins"]
    return {
        "realm": REALM,
        "displayName": "宁晋县",
        "enabled": True,
        "organizationsEnabled": True,
        "roles": {
            "realm": [
                {"name": r} for r in ["dept-admin", "planner", "inspector", "reviewer", "county-overseer"]
            ]
        },
        "groups": [
            {
                "name": "130528-yjj",
                "path": "/130528-yjj",
                "subGroups": [{"name": g, "path": f"/130528-yjj/{g}"} for g in yjj],
            },
            {"name": "130528-xfjy", "subGroups": [{"name": "fhjdk"}]},
            {"name": "130528-scjg", "subGroups": [{"name": "zfjck"}]},
        ],
        "clientScopes": [
            {"name": n, "attributes": {"include.in.token.scope": "false"}}
            for n in ("acr", "basic", "roles", "web-origins")
        ],
        "users": users,
        "clients": [
            {
                "clientId": "spotcheck-web",
                "secret": "spotcheck-web-dev-secret",
                "publicClient": False,
                "standardFlowEnabled": True,
                "directAccessGrantsEnabled": False,
                "redirectUris": ["http://localhost:8000/*"],
                "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
                "protocolMappers": audience,
                "defaultClientScopes": scopes,
            },
            {
                "clientId": "spotcheck-cli",
                "publicClient": True,
                "standardFlowEnabled": False,
                "directAccessGrantsEnabled": True,
                "protocolMappers": audience,
                "defaultClientScopes": scopes,
            },
            {"clientId": "spotcheck-api", "bearerOnly": True},
            {
                "clientId": "spotcheck-provisioner",
                "secret": "spotcheck-provisioner-dev-secret",
                "publicClient": False,
                "standardFlowEnabled": False,
                "serviceAccountsEnabled": True,
                "defaultClientScopes": ["acr", "basic", "profile", "roles", "service_account"],
            },
        ],
        "organizations": [
            org(
                "130528-yjj",
                "宁晋县应急管理局",
                ["yjj-admin", "yjj-planner", "yjj-reviewer", "yjj-insp-whjg", "yjj-insp-whjc", "multi-dept"],
            ),
            org(
                "130528-xfjy", "宁晋县消防救援大队", ["xf-admin", "xf-planner", "xf-inspector", "multi-dept"]
            ),
            org("130528-scjg", "宁晋县市场监督管理局", ["scjg-admin"]),
        ],
    }


def realm_file(tmp_dir: Path) -> Path:
    """The real realm file once it exists, otherwise the stand-in written to `tmp_dir`."""
    if REAL_REALM_FILE.exists():
        return REAL_REALM_FILE
    path = tmp_dir / "realm.json"
    path.write_text(json.dumps(fixture_realm(), ensure_ascii=False))
    return path


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_provider(realm: Path, data_dir: Path, public_base_url: str | None = None) -> Iterator[str]:
    """Run the provider with uvicorn on a free loopback port; yield the URL to reach it."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_dev_provider_app(realm, data_dir, public_base_url or url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("dev provider did not start")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
