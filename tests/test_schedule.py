"""Free-look windows, calling hours, routing and sync_tasks: one task per in-scope policy."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from callback.models import CallbackTask, FreeLookRule, Holiday, RoutingRule, TaskStatus
from callback.schedule import (
    CallingHours,
    FreeLookDays,
    deadline_for,
    free_look_window,
    sync_tasks,
)
from verification.scripts import age_on
from verification.vocab import Channel, ProductType

from .factories.queue import NOW, at, policy_with_applicant, queue

SH = ZoneInfo("Asia/Shanghai")


class TestWindowArithmetic:
    def test_counted_from_the_day_after_the_receipt(self):
        assert free_look_window(dt.date(2026, 3, 1), 15) == (dt.date(2026, 3, 2), dt.date(2026, 3, 16))

    def test_month_end(self):
        assert free_look_window(dt.date(2026, 1, 31), 15) == (dt.date(2026, 2, 1), dt.date(2026, 2, 15))
        assert free_look_window(dt.date(2026, 2, 20), 15) == (dt.date(2026, 2, 21), dt.date(2026, 3, 7))

    def test_year_end(self):
        assert free_look_window(dt.date(2026, 12, 25), 15) == (dt.date(2026, 12, 26), dt.date(2027, 1, 9))

    def test_leap_day(self):
        assert free_look_window(dt.date(2028, 2, 28), 1) == (dt.date(2028, 2, 29), dt.date(2028, 2, 29))
        assert free_look_window(dt.date(2028, 2, 20), 15) == (dt.date(2028, 2, 21), dt.date(2028, 3, 6))
        assert free_look_window(dt.date(2027, 2, 20), 15) == (dt.date(2027, 2, 21), dt.date(2027, 3, 7))

    def test_deadline_is_midnight_after_last_day_in_local_time(self):
        deadline = deadline_for(dt.date(2026, 3, 16))
        assert deadline == dt.datetime(2026, 3, 17, tzinfo=SH)
        assert deadline.astimezone(dt.UTC) == dt.datetime(2026, 3, 16, 16, 0, tzinfo=dt.UTC)

    def test_deadline_in_another_time_zone(self):
        assert deadline_for(dt.date(2026, 3, 16), "Asia/Urumqi").astimezone(dt.UTC) == dt.datetime(
            2026, 3, 16, 18, 0, tzinfo=dt.UTC
        )

    def test_most_specific_free_look_rule_wins(self):
        rules = FreeLookDays(
            {("", ""): 15, ("bancassurance", ""): 20, ("", "annuity"): 18, ("bancassurance", "annuity"): 25}
        )
        assert rules.days_for(channel="agency", product_type="traditional") == 15
        assert rules.days_for(channel="bancassurance", product_type="traditional") == 20
        assert rules.days_for(channel="agency", product_type="annuity") == 18
        assert rules.days_for(channel="bancassurance", product_type="annuity") == 25
        assert FreeLookDays({}).days_for(channel="agency", product_type="") == 15


class TestCallingHours:
    hours = CallingHours()

    @pytest.mark.parametrize(
        ("moment", "open_"),
        [
            (at(2026, 3, 4, 8, 59), False),
            (at(2026, 3, 4, 9, 0), True),
            (at(2026, 3, 4, 20, 29), True),
            (at(2026, 3, 4, 20, 30), False),
            (at(2026, 3, 7, 9, 0), True),  # Saturday
            (at(2026, 3, 7, 16, 59), True),
            (at(2026, 3, 7, 17, 0), False),
            (at(2026, 3, 8, 8, 59), False),  # Sunday
        ],
    )
    def test_edges(self, moment, open_):
        assert self.hours.is_open(moment) is open_

    def test_applicant_local_time_not_server_time(self):
        utc_moment = dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
        assert self.hours.is_open(utc_moment)
        urumqi = CallingHours(tz_name="Asia/Urumqi")  # UTC+6: 07:00 there
        assert not urumqi.is_open(utc_moment)

    def test_holiday_closed_and_next_opening_skips_it(self):
        holidays = frozenset({dt.date(2026, 10, 1), dt.date(2026, 10, 2)})
        assert not self.hours.is_open(at(2026, 10, 1, 10), holidays)
        assert self.hours.next_open(at(2026, 9, 30, 21), holidays) == at(2026, 10, 3, 9)

    def test_next_open_after_evening_close(self):
        assert self.hours.next_open(at(2026, 3, 4, 20, 30)) == at(2026, 3, 5, 9)
        assert self.hours.next_open(at(2026, 3, 6, 22)) == at(2026, 3, 7, 9)
        assert self.hours.next_open(at(2026, 3, 4, 12)) == at(2026, 3, 4, 12)


def test_age_on_birthday_edges():
    assert age_on(dt.date(1966, 3, 4), dt.date(2026, 3, 4)) == 60
    assert age_on(dt.date(1966, 3, 5), dt.date(2026, 3, 4)) == 59
    assert age_on(None, dt.date(2026, 3, 4)) is None


@pytest.mark.django_db
class TestSyncTasks:
    def test_one_task_per_policy_whatever_is_resynced(self):
        queue("main", is_default=True)
        policies = [policy_with_applicant(receipt=dt.date(2026, 3, 1)) for _ in range(3)]
        assert sync_tasks(now=NOW) == 3
        assert sync_tasks(now=NOW) == 0
        assert sync_tasks(policy_ids=[p.pk for p in policies] * 2, now=NOW) == 0
        assert CallbackTask.objects.count() == 3
        task = CallbackTask.objects.get(policy=policies[0])
        assert (task.status, task.window_start, task.window_end) == (
            "open",
            dt.date(2026, 3, 2),
            dt.date(2026, 3, 16),
        )
        assert task.deadline == dt.datetime(2026, 3, 17, tzinfo=SH)

    def test_out_of_scope_policy_gets_no_task(self):
        queue("main", is_default=True)
        policy_with_applicant(receipt=dt.date(2026, 3, 1), in_scope=False, whole_life=False)
        assert sync_tasks(now=NOW) == 0
        assert not CallbackTask.objects.exists()

    def test_awaiting_receipt_then_receipt_arrives_then_moves(self):
        queue("main", is_default=True)
        policy = policy_with_applicant(receipt=None)
        sync_tasks(policy_ids=[policy.pk], now=NOW)
        task = CallbackTask.objects.get()
        assert task.status == TaskStatus.AWAITING_RECEIPT and task.deadline is None
        policy.receipt_date = dt.date(2026, 3, 3)
        policy.save()
        sync_tasks(policy_ids=[policy.pk], now=NOW)
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN and task.window_end == dt.date(2026, 3, 18)
        policy.receipt_date = dt.date(2026, 3, 10)
        policy.save()
        sync_tasks(policy_ids=[policy.pk], now=NOW)
        task.refresh_from_db()
        assert (task.window_start, task.window_end) == (dt.date(2026, 3, 11), dt.date(2026, 3, 25))
        assert task.next_attempt_at == dt.datetime(2026, 3, 11, tzinfo=SH)
        assert CallbackTask.objects.count() == 1

    def test_closed_task_is_not_reopened_by_reimport(self):
        queue("main", is_default=True)
        policy = policy_with_applicant(receipt=dt.date(2026, 3, 1))
        sync_tasks(now=NOW)
        CallbackTask.objects.update(status=TaskStatus.COMPLETED)
        policy.receipt_date = dt.date(2026, 3, 2)
        policy.save()
        assert sync_tasks(now=NOW) == 0
        assert CallbackTask.objects.get().status == TaskStatus.COMPLETED

    def test_free_look_rule_per_channel(self):
        queue("main", is_default=True)
        FreeLookRule.objects.update_or_create(
            channel=Channel.BANCASSURANCE, product_type="", defaults={"days": 20}
        )
        policy = policy_with_applicant(receipt=dt.date(2026, 3, 1), channel=Channel.BANCASSURANCE)
        sync_tasks(now=NOW)
        assert CallbackTask.objects.get(policy=policy).window_end == dt.date(2026, 3, 21)

    def test_routing_by_age_band_channel_and_default(self):
        default = queue("main", is_default=True)
        senior = queue("senior", is_default=False)
        banca = queue("banca", is_default=False)
        RoutingRule.objects.create(queue=senior, order=10, min_age=60)
        RoutingRule.objects.create(queue=banca, order=20, channel=Channel.BANCASSURANCE)
        old = policy_with_applicant(
            receipt=dt.date(2026, 3, 1), birth=dt.date(1960, 1, 1), channel=Channel.BANCASSURANCE
        )
        bank = policy_with_applicant(
            receipt=dt.date(2026, 3, 1), channel=Channel.BANCASSURANCE, product_type=ProductType.ANNUITY
        )
        young = policy_with_applicant(receipt=dt.date(2026, 3, 1))
        sync_tasks(now=NOW)
        queue_of = dict(CallbackTask.objects.values_list("policy_id", "queue_id"))
        assert queue_of == {old.pk: senior.pk, bank.pk: banca.pk, young.pk: default.pk}

    def test_held_task_stays_in_its_queue_when_routing_changes_unheld_one_moves(self):
        main = queue("main", is_default=True)
        senior = queue("senior", is_default=False)
        held, free = (
            policy_with_applicant(receipt=dt.date(2026, 3, 1), birth=dt.date(1950, 1, 1)) for _ in "ab"
        )
        sync_tasks(now=NOW)
        agent = User.objects.create_user("li")
        CallbackTask.objects.filter(policy=held).update(
            holder=agent, lease_expires_at=NOW + dt.timedelta(minutes=5)
        )
        RoutingRule.objects.create(queue=senior, order=10, min_age=60)
        assert sync_tasks(now=NOW) == 1
        queue_of = dict(CallbackTask.objects.values_list("policy_id", "queue_id"))
        assert queue_of == {held.pk: main.pk, free.pk: senior.pk}

    def test_unknown_age_is_not_routed_by_age(self):
        main = queue("main", is_default=True)
        senior = queue("senior", is_default=False)
        RoutingRule.objects.create(queue=senior, order=10, min_age=60)
        policy = policy_with_applicant(receipt=dt.date(2026, 3, 1), birth=None)
        sync_tasks(now=NOW)
        assert CallbackTask.objects.get(policy=policy).queue_id == main.pk

    def test_scheduled_retry_survives_resync_and_a_move_that_leaves_it_inside(self):
        queue("main", is_default=True)
        policy = policy_with_applicant(receipt=dt.date(2026, 3, 1))
        sync_tasks(now=NOW)
        retry = dt.datetime(2026, 3, 5, 14, tzinfo=SH)
        CallbackTask.objects.update(next_attempt_at=retry)
        assert sync_tasks(now=NOW) == 0
        policy.receipt_date = dt.date(2026, 3, 2)  # window now opens on 3 March, the retry is inside
        policy.save()
        assert sync_tasks(policy_ids=[policy.pk], now=NOW) == 1
        task = CallbackTask.objects.get()
        assert (task.window_start, task.next_attempt_at) == (dt.date(2026, 3, 3), retry)

    def test_deadline_in_the_queue_time_zone(self):
        queue("west", is_default=True, timezone="Asia/Urumqi")
        policy_with_applicant(receipt=dt.date(2026, 3, 1))
        sync_tasks(now=NOW)
        task = CallbackTask.objects.get()
        assert task.deadline == dt.datetime(2026, 3, 17, tzinfo=ZoneInfo("Asia/Urumqi"))
        assert task.next_attempt_at == dt.datetime(2026, 3, 2, tzinfo=ZoneInfo("Asia/Urumqi"))

    def test_holidays_are_data(self):
        Holiday.objects.create(date=dt.date(2026, 10, 1), name="国庆节")
        from callback.schedule import load_holidays

        assert dt.date(2026, 10, 1) in load_holidays(around=dt.date(2026, 9, 28))


@pytest.mark.django_db
def test_queue_rejects_bad_time_zone_and_reversed_hours():
    from django.core.exceptions import ValidationError

    bad = queue("tz", is_default=False, timezone="Mars/Olympus")
    with pytest.raises(ValidationError) as err:
        bad.full_clean()
    assert "timezone" in err.value.message_dict
    bad.timezone, bad.weekday_start, bad.weekday_end = "Asia/Shanghai", dt.time(21), dt.time(9)
    with pytest.raises(ValidationError) as err:
        bad.full_clean()
    assert "weekday_end" in err.value.message_dict
