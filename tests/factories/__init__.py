import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from callback import models
from callback.schedule import deadline_for
from verification.validators import normalize_phone
from verification.vocab import Channel, Gender, IdType, PartyRole, PaymentFrequency, ProductType, Relation

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "测试"

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.set_password(PASSWORD)
        self.save()


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StaffProfile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Policy

    policy_no = factory.Sequence(lambda n: f"P{n:011d}")
    product_code = "P-TR20"
    product_name = "国寿福终身寿险"
    product_type = ProductType.TRADITIONAL
    whole_life = True
    premium = Decimal("5000.00")
    payment_frequency = PaymentFrequency.ANNUAL
    payment_years = 20
    channel = Channel.AGENCY
    branch_code = "B1101"
    branch_name = "北京市分公司"
    agent_code = "A000001"
    agent_name = "徐磊"
    issue_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=5))
    receipt_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=2))
    in_scope = True


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Party

    policy = factory.SubFactory(PolicyFactory)
    role = PartyRole.APPLICANT
    name = "陈磊"
    gender = Gender.MALE
    birth_date = dt.date(1960, 9, 8)
    id_type = IdType.ID_CARD
    id_no = "130426196009081436"
    mobile = "13800138000"
    phone = ""
    # Stored as intake stores them: E.164 beside what was written.
    mobile_e164 = factory.LazyAttribute(lambda party: normalize_phone(party.mobile))
    phone_e164 = factory.LazyAttribute(lambda party: normalize_phone(party.phone))
    address = "河北省邯郸市涉县建国路57号5栋2671室"
    relation = Relation.SELF


def _found_by_code(model, code_field: str, codes: str, **fields) -> type[factory.django.DjangoModelFactory]:
    """A factory for a row that is made once and found again by its code (registries, teams, queues),
    the codes numbered from the format `codes`."""
    meta = type("Meta", (), {"model": model, "django_get_or_create": (code_field,)})
    attributes = {"Meta": meta, code_field: factory.Sequence(codes.format), **fields}
    return type(f"{model.__name__}Factory", (factory.django.DjangoModelFactory,), attributes)


AgentFactory = _found_by_code(
    models.Agent,
    "agent_code",
    "A{:06d}",
    name="徐磊",
    mobile="18628898923",
    branch_code="B1101",
    channel=Channel.AGENCY,
)
OutletFactory = _found_by_code(
    models.Outlet,
    "outlet_code",
    "O{:05d}",
    name="中国邮政储蓄银行朝阳区第0营业所",
    institution="中国邮政储蓄银行",
    phones="010-71867825",
    address="北京市朝阳区建国路380号9栋1104室",
    branch_code="B1101",
)
TeamFactory = _found_by_code(models.Team, "name", "回访{}组")
QueueFactory = _found_by_code(
    models.Queue, "code", "queue-{}", name=factory.Sequence("回访队列{}".format), is_default=True
)


class CallbackTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CallbackTask

    policy = factory.SubFactory(PolicyFactory)
    queue = factory.SubFactory(QueueFactory)
    status = models.TaskStatus.OPEN
    window_start = factory.LazyAttribute(lambda o: o.policy.receipt_date + dt.timedelta(days=1))
    window_end = factory.LazyAttribute(lambda o: o.policy.receipt_date + dt.timedelta(days=15))
    deadline = factory.LazyAttribute(lambda o: deadline_for(o.window_end))
    next_attempt_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=1))
