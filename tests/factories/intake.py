"""Test helpers for intake and screening: FORMATS.md rows and registry rows."""

import csv
import datetime as dt
from pathlib import Path

from callback import intake, screening
from callback.models import Agent, CompanyNumber, ContactFlag, Outlet
from verification import validators

TODAY = dt.date(2026, 11, 25)

BASE_ROW = {
    "policy_no": "PT0000000001",
    "product_code": "P-TR20",
    "product_name": "国寿福终身寿险",
    "product_type": "traditional",
    "term_years": "whole_life",
    "premium": "5000.00",
    "payment_frequency": "annual",
    "payment_years": "20",
    "channel": "agency",
    "branch_code": "B1101",
    "branch_name": "北京市分公司",
    "agent_code": "A000001",
    "agent_name": "徐磊",
    "outlet_code": "",
    "issue_date": "2026-11-03",
    "receipt_date": "2026-11-05",
    "applicant_name": "陈磊",
    "applicant_gender": "M",
    "applicant_birth_date": "1960-09-08",
    "applicant_id_type": "id_card",
    "applicant_id_no": "130426196009081436",
    "applicant_mobile": "15020513739",
    "applicant_phone": "",
    "applicant_address": "河北省邯郸市涉县建国路57号5栋2671室",
    "insured_relation": "self",
    "insured_name": "",
    "insured_gender": "",
    "insured_birth_date": "",
    "insured_id_type": "",
    "insured_id_no": "",
    "beneficiaries": "",
}


def row(**overrides) -> dict:
    return {**BASE_ROW, **overrides}


def import_rows(*rows: dict, today: dt.date = TODAY) -> intake.ImportResult:
    return intake.import_policy_records(records=list(rows), today=today)


def live_codes(policy_no: str = "PT0000000001") -> set[str]:
    return set(
        ContactFlag.objects.filter(
            policy__policy_no=policy_no, status__in=("open", "correction_requested")
        ).values_list("code", flat=True)
    )


def register_agent(code="A000001", name="徐磊", mobile="18628898923", phones="") -> Agent:
    agent = Agent.objects.create(
        agent_code=code, name=name, mobile=mobile, phones=phones, branch_code="B1101", channel="agency"
    )
    screening.rescreen_registry_change(kind="agent", rows=[agent])
    return agent


def register_outlet(
    code="O00001", phones="010-32341057", address="北京市海淀区中山路347号24栋2334室"
) -> Outlet:
    outlet = Outlet.objects.create(
        outlet_code=code,
        name="中国邮政储蓄银行海淀区第1营业所",
        phones=phones,
        address=address,
        address_key=validators.address_key(address),
        branch_code="B1101",
    )
    screening.rescreen_registry_change(kind="outlet", rows=[outlet])
    return outlet


def register_company_number(number="95519", label="客服热线") -> CompanyNumber:
    company = CompanyNumber.objects.create(
        number=number, normalized=validators.normalize_phone(number), label=label
    )
    screening.rescreen_registry_change(kind="company", rows=[company])
    return company


def write_csv(path: Path, rows: list[dict], *, encoding="utf-8", columns=None) -> Path:
    columns = columns or list(BASE_ROW)
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
