"""Plans, tasks and the draw ceremony; importing the package registers its 工作台 to-dos."""

from services.planning import todos

todos.install()
