"""E-callback (电子化回访): the applicant verifies on their own phone through an SMS link; the phone
queue takes what is left (docs/ecallback.md).

The rest of Huifang calls these: `offer_ecallback` (offer a task an e-callback: link SMS, the phone
queue waits until the fallback time), `cannot_offer` (why a task cannot have one, in words: the
fallback channels record it) and `sweep_ecallbacks` (offers, reminders, fallbacks; run by
callback/sweep.py).
"""

from .flow import cannot_offer, offer_ecallback
from .sweep import sweep_ecallbacks

__all__ = ["cannot_offer", "offer_ecallback", "sweep_ecallbacks"]
