"""The seed county's demo data (宁晋县, 130528), loaded by ``spotcheck demo`` and by the tests.

* :mod:`devtools.demo.registries` — deterministic registries (items, objects, inspectors) per department;
* :mod:`devtools.demo.seed` — regions, departments, sections and registries into the database (idempotent);
* :mod:`devtools.demo.plans` — the seed document's two internal plans of 应急管理局, set up through the services.
"""
