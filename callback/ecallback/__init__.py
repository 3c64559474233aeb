"""E-callback (电子化回访): the applicant verifies on their own phone through an SMS link; the phone
queue takes what is left (docs/ecallback.md).

The rest of Huifang calls these: `offer_ecallback` (offer a task an e-callback: link SMS, the phone
queue waits until the fallback time), `cannot_offer` (why a task cannot have one, in words: the
fallback channels record it) and `sweep_ecallbacks` (offers, reminders, fallbacks; run by
callback/sweep.py).

The applicant's steps, one module each: `offer` (the link SMS, back to the phone queue), `identity`
(SMS code + id tail or birth date), `answering` (the script as a form, the signature), `call_request`
("I'd rather be called"), `disclosure` (the policy summary and disclosures the pages show); `steps`
holds what they share (errors, audit, SMS codes, closing through callback/outcomes.py).
"""

from .offer import cannot_offer, offer_ecallback
from .sweep import sweep_ecallbacks

__all__ = ["cannot_offer", "offer_ecallback", "sweep_ecallbacks"]
