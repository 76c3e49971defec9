"""Cross-department joint checks (部门联合抽查); importing the package installs its planning and inspection hooks."""

from services.federation import hooks, todos

hooks.install()
todos.install()
