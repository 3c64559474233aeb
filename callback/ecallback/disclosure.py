"""What the applicant reads once identity is proven: their policy's summary and the free-look and risk
disclosures they scroll through before answering."""

from django.utils.translation import gettext as _

from ..models import ECallbackLink
from ..script_for_policy import script_context


def policy_summary(link: ECallbackLink) -> list[tuple[str, str]]:
    """What the applicant sees of their policy once identity is proven (their own data, phones masked)."""
    policy, task = link.task.policy, link.task
    context = script_context(policy=policy, task=task)
    return [
        (_("Policy number"), policy.policy_no),
        (_("Product"), f"{policy.product_name}（{context['product_type']}）"),
        (
            _("Premium"),
            _("CNY %(premium)s, %(frequency)s, %(years)s years")
            % {
                "premium": context["premium"] or "—",
                "frequency": context["payment_frequency"] or "—",
                "years": context["payment_years"] or "—",
            },
        ),
        (_("Term"), context["term"] or "—"),
        (_("Salesperson"), f"{policy.agent_name} {policy.agent_code}".strip() or "—"),
        (_("Receipt signed"), context["receipt_date"] or "—"),
        (_("Free-look period ends"), context["free_look_end"] or "—"),
    ]


def disclosures(link: ECallbackLink) -> list[str]:
    """The free-look and risk disclosures the applicant must scroll through before answering."""
    context = script_context(policy=link.task.policy, task=link.task)
    paragraphs = [
        _(
            "Free-look period: you have %(days)s days from the day after you signed the policy receipt, "
            "until %(end)s. If you cancel the policy within this period, the premium you paid is refunded, "
            "less at most a small cost of the policy."
        )
        % {"days": context["free_look_days"] or "——", "end": context["free_look_end"] or "——"},
        _(
            "After the free-look period, cancelling the policy (surrender) refunds only its cash value, "
            "which in the first years can be much less than the premiums paid: you may lose money."
        ),
        _(
            "This is an insurance policy, not a bank deposit, a bank wealth-management product or a fund. "
            "Its premium is paid for %(years)s years as agreed; missing payments can end the cover."
        )
        % {"years": context["payment_years"] or "——"},
    ]
    if link.task.policy.product_type in ("participating", "universal", "investment_linked"):
        paragraphs.append(
            _(
                "Dividends, credited interest and investment returns are not guaranteed: the amounts shown "
                "by the salesperson are illustrations, and the return can be lower, or a loss."
            )
        )
    paragraphs.append(
        _(
            "If anything was explained to you differently, answer “no” below: "
            "a callback specialist will call you."
        )
    )
    return paragraphs
