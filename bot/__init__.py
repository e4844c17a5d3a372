"""kentongan: a Telegram bot for neighbourhood group chats around an election.

This package must stay importable without python-telegram-bot: the domain modules under
``bot.core`` never import ``telegram``; only ``bot.app`` and ``bot.handlers`` do.
"""
