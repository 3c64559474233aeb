"""Fallback channels for callbacks the phone cannot finish: letters, branch visits, SMS e-callback links.

The rest of the code calls these few functions; see docs/fallbacks.md.
"""

from .history import tried, tried_summary, tried_text, tried_texts
from .receipts import ReceiptError, lapse_overdue, mark_sent, record_receipt
from .rules import MoveError, apply_rules, move_by_hand, take_over

__all__ = [
    "MoveError",
    "ReceiptError",
    "apply_rules",
    "lapse_overdue",
    "mark_sent",
    "move_by_hand",
    "record_receipt",
    "take_over",
    "tried",
    "tried_summary",
    "tried_text",
    "tried_texts",
]
