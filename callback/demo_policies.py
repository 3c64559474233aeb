"""Demo step: registries and policies. PLACEHOLDER loader (plain ORM, no screening) until intake lands;
the intake issue replaces it with a run of the real import over generated files."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import demo_data
from .models import Agent, CompanyNumber, Outlet, Party, Policy


@transaction.atomic
def seed(users) -> None:
    agents, outlets = demo_data.agent_rows(), demo_data.outlet_rows()
    for row in agents:
        Agent.objects.update_or_create(agent_code=row["agent_code"], defaults={k: v for k, v in row.items() if k != "agent_code"})
    for row in outlets:
        Outlet.objects.update_or_create(outlet_code=row["outlet_code"], defaults={k: v for k, v in row.items() if k != "outlet_code"})
    for row in demo_data.company_rows():
        CompanyNumber.objects.update_or_create(normalized=row["number"].replace("-", ""), defaults=row)
    for row in demo_data.policy_rows(120, today=timezone.localdate(), agents=agents, outlets=outlets):
        whole = row["term_years"] == "whole_life"
        policy, _ = Policy.objects.update_or_create(
            policy_no=row["policy_no"],
            defaults=dict(
                product_code=row["product_code"], product_name=row["product_name"], product_type=row["product_type"],
                term_years=None if whole else Decimal(row["term_years"]), whole_life=whole,
                premium=Decimal(row["premium"]), payment_frequency=row["payment_frequency"],
                payment_years=int(row["payment_years"]), channel=row["channel"], branch_code=row["branch_code"],
                branch_name=row["branch_name"], agent_code=row["agent_code"], agent_name=row["agent_name"],
                outlet_code=row["outlet_code"], issue_date=dt.date.fromisoformat(row["issue_date"]),
                receipt_date=dt.date.fromisoformat(row["receipt_date"]) if row["receipt_date"] else None,
                in_scope=whole or Decimal(row["term_years"]) > 1,
            ),
        )
        Party.objects.update_or_create(
            policy=policy, role="applicant", seq=0,
            defaults=dict(
                name=row["applicant_name"], gender=row["applicant_gender"],
                birth_date=dt.date.fromisoformat(row["applicant_birth_date"]), id_type=row["applicant_id_type"],
                id_no=row["applicant_id_no"], mobile=row["applicant_mobile"], phone=row["applicant_phone"],
                address=row["applicant_address"], relation="self",
            ),
        )
