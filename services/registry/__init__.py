"""一单两库: objects, inspectors, items and tags; importing the package registers its 工作台 to-dos."""

from services.registry import todos

todos.install()
