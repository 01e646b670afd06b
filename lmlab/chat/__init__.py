"""Chat: messages (role, content) -> one prompt string through a sandboxed Jinja chat template.

The output equals transformers' `apply_chat_template(..., tokenize=False)` on the same template
and special tokens, so training (SFT) and inference (chat, serve) render conversations alike.
"""

from lmlab.chat.render import ROLES, Message, render, validate_messages
from lmlab.chat.templates import TEMPLATES, template_for

__all__ = ["ROLES", "TEMPLATES", "Message", "render", "template_for", "validate_messages"]
