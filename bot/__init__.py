"""kentongan's Telegram side: the Application, handlers, the HTTP sender, the shell commands.

Only this package imports ``telegram``. The layers below it, each importing only those under it:
``domain`` (use cases) > ``scheduler`` (when and how broadcasts go out) > ``messages`` | ``db`` >
``election`` (the profile). See docs/architecture.md; the contracts are in pyproject.toml.
"""
