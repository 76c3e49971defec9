"""Results of inspections (谁检查、谁录入); importing the package tells planning how many of a task's results are
published (a task with published results can no longer be cancelled)."""

from services.inspection import planning_hooks

planning_hooks.install()
