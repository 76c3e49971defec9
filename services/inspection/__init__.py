"""Result entry, review and publication; importing the package registers its 工作台 to-dos."""

from services.inspection import todos

todos.install()
