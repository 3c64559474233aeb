"""E-callback (电子化回访): the applicant verifies on their own phone through an SMS link; the phone
queue takes what is left (docs/ecallback.md).

The rest of Huifang calls these: `offer_ecallback` (offer a task an e-callback: link SMS, the phone
queue waits until the fallback time) and `sweep_ecallbacks` (offers, reminders, fallbacks; run by
callback/sweep.py).
"""

from .flow import offer_ecallback
from .sweep import sweep_ecallbacks

__all__ = ["offer_ecallback", "sweep_ecallbacks"]
