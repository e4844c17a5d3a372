"""The people, chats and messages the sandboxed bot lives among, and the updates they cause.

Everything here is synchronous and single-threaded (it runs on the server's event loop); a test
changes the world with plain method calls and the bot sees the consequences as Bot API updates.

The ``World`` is assembled from this package's modules: ``state`` (notification, updates,
delivery rules, files), ``people`` (users, groups, memberships) and ``actions`` (what users
do, what a test reads back).
"""

from __future__ import annotations

from ..models import (
    GROUP_ANONYMOUS_BOT_ID,
    CallbackAnswer,
    CallbackQuery,
    Chat,
    ChatType,
    Member,
    MemberStatus,
    Message,
    StoredFile,
    User,
)
from .actions import UserActions
from .people import People
from .state import OPT_IN_UPDATES

__all__ = [
    "GROUP_ANONYMOUS_BOT_ID",
    "OPT_IN_UPDATES",
    "CallbackAnswer",
    "CallbackQuery",
    "Chat",
    "ChatType",
    "Member",
    "MemberStatus",
    "Message",
    "StoredFile",
    "User",
    "World",
]


class World(People, UserActions):
    """Users, chats and messages; pending updates for the bot; what the bot did to them."""
