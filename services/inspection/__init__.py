"""Result entry, review and publication; importing the package tells planning how many of a task's results are
published (a task with published results can no longer be cancelled) and registers its 工作台 to-dos."""

from services.inspection import planning_hooks, todos

planning_hooks.install()
todos.install()
