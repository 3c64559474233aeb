"""Demo step: e-callbacks (callback/ecallback/). Three applicants of their own: one completed online,
one whose "no" went to review, and one with a fresh link, texted on every run so that the console SMS
backend prints a working address in the `make demo` output (the SMS to +8613912345678).

Idempotent: the policies are get-or-create, the finished e-callbacks are made once, and the fresh
link replaces the previous demo link (same counts after a second run).
"""

import datetime as dt
import sys
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from verification.vocab import Channel, Gender, IdType, PartyRole, PaymentFrequency, ProductType, Relation

from ..ecallback import answering, codes, identity, offer_ecallback
from ..models import (
    CodePurpose,
    ECallbackLink,
    ECallbackSettings,
    LinkStatus,
    Party,
    PhoneOnlyRule,
    Policy,
    TaskStatus,
)
from ..schedule import sync_tasks

APPLICANTS = [
    # policy number, name, gender, birth date, id number, mobile, what happens
    (
        "EC2026000001",
        "周晓燕",
        Gender.FEMALE,
        dt.date(1988, 3, 14),
        "11010519880314002X",
        "13912345678",
        "open",
    ),
    (
        "EC2026000002",
        "吴昊",
        Gender.MALE,
        dt.date(1991, 7, 2),
        "310101199107021234",
        "13623456789",
        "verified",
    ),
    (
        "EC2026000003",
        "郑丽",
        Gender.FEMALE,
        dt.date(1985, 11, 20),
        "440106198511203322",
        "13534567890",
        "review",
    ),
]
DEVICE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def demo_policy(policy_no, name, gender, born, id_no, mobile, *, receipt_days_ago: int = 1) -> Policy:
    """A telemarketing policy of the demo's e-callback applicants (the fallback step makes one too)."""
    today = timezone.localdate()
    policy, created = Policy.objects.get_or_create(
        policy_no=policy_no,
        defaults={
            "product_code": "P-ZX20",
            "product_name": "鑫享福两全保险",
            "product_type": ProductType.TRADITIONAL,
            "term_years": Decimal("20"),
            "premium": Decimal("6800.00"),
            "payment_frequency": PaymentFrequency.ANNUAL,
            "payment_years": 10,
            "channel": Channel.TELEMARKETING,
            "branch_code": "B1101",
            "branch_name": "北京市分公司",
            "agent_code": "A000217",
            "agent_name": "孙建国",
            "issue_date": today - dt.timedelta(days=receipt_days_ago + 2),
            "receipt_date": today - dt.timedelta(days=receipt_days_ago),
            "in_scope": True,
        },
    )
    if created:
        Party.objects.create(
            policy=policy,
            role=PartyRole.APPLICANT,
            name=name,
            gender=gender,
            birth_date=born,
            id_type=IdType.ID_CARD,
            id_no=id_no,
            mobile=mobile,
            mobile_e164="+86" + mobile,
            address="北京市朝阳区望京街道阜通东大街6号院3号楼1201室",
            relation=Relation.SELF,
        )
        sync_tasks(policy_ids=[policy.pk])
    return policy


def _finish(link: ECallbackLink, *, outcome: str, now: dt.datetime) -> None:
    """Walk a link through the applicant's steps with codes issued here (no SMS needed)."""
    _row, code = codes.issue(link=link, purpose=CodePurpose.IDENTITY, minutes=10, now=now)
    applicant = link.task.policy.applicant
    identity.prove_identity(
        link=link,
        code=code,
        method="id_last6",
        value=applicant.id_no[-6:],
        ip="223.104.3.18",
        user_agent=DEVICE,
        now=now,
    )
    link.refresh_from_db()
    data = {"disclosures_read": "1"}
    for item in answering.form_questions(link):
        question = item.question
        answer = {"yes_no": "yes", "date": "2026-11-20", "text": "没有疑问"}.get(question.kind)
        if question.kind == "choice":
            answer = (question.passing_answers or item.choices)[0]
        if outcome == "review" and question.key == "premium_understood":
            answer = "no"
        data[f"q_{question.key}"] = answer
    answering.submit_answers(link=link, data=data, ip="223.104.3.18", now=now + dt.timedelta(minutes=4))
    if outcome == "verified":
        signed = now + dt.timedelta(minutes=5)
        _row, code = codes.issue(link=link, purpose=CodePurpose.SIGNATURE, minutes=10, now=signed)
        answering.sign(link=link, code=code, ip="223.104.3.18", user_agent=DEVICE, now=signed)


@transaction.atomic
def seed(users) -> None:
    settings_row = ECallbackSettings.objects.order_by("pk").first() or ECallbackSettings()
    settings_row.enabled = True
    settings_row.reminder_days = settings_row.reminder_days or [1, 2]
    settings_row.save()
    # The rest of the demo is the agents' phone work: only telemarketing sales are offered e-callbacks here.
    PhoneOnlyRule.objects.get_or_create(
        name="演示：电销以外的渠道电话回访",
        defaults={"channels": [Channel.AGENCY, Channel.BANCASSURANCE, Channel.BROKER]},
    )
    now = timezone.now()
    for policy_no, name, gender, born, id_no, mobile, plan in APPLICANTS:
        policy = demo_policy(policy_no, name, gender, born, id_no, mobile)
        task = getattr(policy, "task", None)
        if task is None:
            continue
        if plan == "open":
            # A fresh link on every run: the old one is replaced (only its hash was kept).
            task.ecallback_links.filter(status__in=(LinkStatus.SENT, LinkStatus.IDENTIFIED)).delete()
            if task.status == TaskStatus.OPEN and offer_ecallback(task=task, now=now):
                sys.stdout.write(
                    f"  e-callback: the working link is in the console SMS to +86{mobile} "
                    f"(policy {policy_no}; the applicant's id ends {id_no[-6:]}, born {born:%Y-%m-%d}; "
                    "the code SMS appear in the server log)\n"
                )
        elif not task.ecallback_links.exists() and task.status == TaskStatus.OPEN:
            link = offer_ecallback(task=task, now=now - dt.timedelta(hours=3))
            if link is not None:
                _finish(link, outcome=plan, now=now - dt.timedelta(hours=2))
