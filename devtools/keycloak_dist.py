"""The Keycloak server distribution, fetched once from Maven Central and cached.

* :func:`fetch_distribution` obtains ``org.keycloak:keycloak-quarkus-dist:<version>:zip`` from Maven Central
  **once** (through ``mvn``, the ordinary client) and unpacks it into a cache directory.
* :func:`find_distribution` returns the cached distribution, never downloading (the product itself never downloads
  anything at run time).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

#: 26.7.3 is the newest 26.x served by Maven Central here, and it runs on Debian's OpenJDK 17 (tested; so do
#: 26.4.7 and 26.5.2). Bump it together with ``deploy/keycloak/realm-county-130528.json``'s built-in scopes.
DEFAULT_VERSION = "26.7.3"
ARTIFACT = "org.keycloak:keycloak-quarkus-dist"
CACHE_ENV = "SPOTCHECK_KEYCLOAK_CACHE"
DEFAULT_CACHE_DIR = Path("~/.cache/spotcheck/keycloak")
MIN_JAVA = 17
_COMPLETE_MARKER = ".spotcheck-complete"


class KeycloakUnavailableError(RuntimeError):
    """Java, Maven or the distribution is missing: a Keycloak server cannot be had on this machine."""


def cache_root(cache_dir: Path | None = None) -> Path:
    if cache_dir is not None:
        return cache_dir.expanduser()
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else DEFAULT_CACHE_DIR.expanduser()


def _home_path(version: str, cache_dir: Path | None) -> Path:
    return cache_root(cache_dir) / f"keycloak-{version}"


def find_distribution(version: str = DEFAULT_VERSION, cache_dir: Path | None = None) -> Path | None:
    """The unpacked distribution's home directory if it is in the cache; never downloads."""
    home = _home_path(version, cache_dir)
    if (home / _COMPLETE_MARKER).is_file() and (home / "bin" / "kc.sh").is_file():
        return home
    return None


@contextlib.contextmanager
def cache_lock(root: Path) -> Iterator[None]:
    """Serialise fetching and build-saving across processes sharing the cache."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _unzip(archive: Path, dest: Path) -> None:
    """Unzip keeping the Unix permission bits (``zipfile`` drops them, and ``kc.sh`` must stay executable)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(target, mode)


def fetch_distribution(version: str = DEFAULT_VERSION, cache_dir: Path | None = None) -> Path:
    """Obtain and unpack the Keycloak distribution once; later calls return the cached home directory."""
    if found := find_distribution(version, cache_dir):
        return found
    root = cache_root(cache_dir)
    with cache_lock(root):
        if found := find_distribution(version, cache_dir):  # fetched by a concurrent process meanwhile
            return found
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KeycloakUnavailableError(
                "Maven (mvn) is not installed; cannot fetch the Keycloak distribution"
            )
        java_executable()  # Maven needs Java as well; fail with a clear message
        with tempfile.TemporaryDirectory(prefix="kc-fetch-", dir=root) as tmp:
            tmp_path = Path(tmp)
            # Run outside any Maven project so that the plugin works standalone.
            proc = subprocess.run(
                [
                    mvn,
                    "-q",
                    "-B",
                    "dependency:copy",
                    f"-Dartifact={ARTIFACT}:{version}:zip",
                    f"-DoutputDirectory={tmp_path / 'zip'}",
                ],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=1800,
                check=False,
            )
            archives = list((tmp_path / "zip").glob("*.zip"))
            if proc.returncode != 0 or not archives:
                raise KeycloakUnavailableError(
                    f"mvn could not fetch {ARTIFACT}:{version}:zip (exit {proc.returncode}):\n"
                    f"{(proc.stdout + proc.stderr)[-3000:]}"
                )
            _unzip(archives[0], tmp_path / "unpacked")
            homes = [p for p in (tmp_path / "unpacked").iterdir() if (p / "bin" / "kc.sh").is_file()]
            if len(homes) != 1:
                raise KeycloakUnavailableError(f"unexpected layout of {archives[0].name}")
            (homes[0] / _COMPLETE_MARKER).write_text(f"{ARTIFACT}:{version}\n")
            home = _home_path(version, cache_dir)
            if home.exists():  # an incomplete earlier attempt
                shutil.rmtree(home)
            homes[0].rename(home)
    return home


def java_executable(java_home: Path | None = None) -> str:
    """The ``java`` to run Keycloak with (``java_home``, ``$JAVA_HOME`` or ``PATH``); must be Java 17 or later."""
    home = java_home or (Path(os.environ["JAVA_HOME"]) if os.environ.get("JAVA_HOME") else None)
    java = str(home / "bin" / "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        raise KeycloakUnavailableError(
            "no Java runtime found (install openjdk-17-jre-headless or set JAVA_HOME)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise KeycloakUnavailableError(f"cannot tell the version of {java}: {out.stderr.strip()}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_x"
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise KeycloakUnavailableError(f"{java} is Java {major}; Keycloak 26 needs Java {MIN_JAVA}+")
    return java
