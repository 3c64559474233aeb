"""Realistic, deterministic demo rows in the interchange formats (FORMATS.md): Chinese names,
addresses, products, branches, agents and outlets. Used by `seed_demo` and the benchmarks."""

import datetime as dt
import random
from collections.abc import Iterator

from .. import intake
from ..models import ImportKind

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建国",
    "玉兰",
    "志强",
    "海燕",
    "晓东",
    "玉玲",
    "红梅",
]
# (province, city or None for a municipality, districts, landline area code, id area code)
REGIONS = [
    ("北京市", None, ["朝阳区", "海淀区", "西城区", "丰台区"], "010", "110105"),
    ("上海市", None, ["浦东新区", "徐汇区", "静安区", "闵行区"], "021", "310115"),
    ("广东省", "广州市", ["天河区", "越秀区", "海珠区"], "020", "440106"),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区"], "0755", "440305"),
    ("江苏省", "南京市", ["玄武区", "鼓楼区", "江宁区"], "025", "320102"),
    ("浙江省", "杭州市", ["西湖区", "上城区", "余杭区"], "0571", "330106"),
    ("河北省", "邯郸市", ["涉县", "丛台区", "复兴区"], "0310", "130426"),
    ("山东省", "济南市", ["历下区", "市中区", "槐荫区"], "0531", "370102"),
    ("四川省", "成都市", ["武侯区", "锦江区", "青羊区"], "028", "510107"),
    ("湖北省", "武汉市", ["江汉区", "武昌区", "洪山区"], "027", "420103"),
]
STREETS = [
    "建国路",
    "中山路",
    "解放大道",
    "人民路",
    "长安街",
    "滨江大道",
    "科技园路",
    "文三路",
    "和平路",
    "龙山大街",
]
BRANCHES = [
    ("B1101", "北京市分公司"),
    ("B3101", "上海市分公司"),
    ("B4401", "广州市分公司"),
    ("B4403", "深圳市分公司"),
    ("B3201", "南京市分公司"),
    ("B3301", "杭州市分公司"),
    ("B1304", "邯郸市分公司"),
    ("B5101", "成都市分公司"),
]
# (code, name, type, term_years, payment years choices)
PRODUCTS = [
    ("P-TR20", "国寿福终身寿险", "traditional", "whole_life", [10, 20]),
    ("P-PA10", "鑫福年年两全保险(分红型)", "participating", "10", [3, 5, 10]),
    ("P-UN05", "稳盈万能型终身寿险", "universal", "whole_life", [1, 5, 10]),
    ("P-IL06", "智选投资连结保险", "investment_linked", "6", [1, 3]),
    ("P-HE20", "康宁重大疾病保险", "health", "20", [10, 20]),
    ("P-AN15", "鑫享年金保险", "annuity", "15", [5, 10]),
    ("P-AC01", "意外伤害保险(一年期)", "accident", "1", [1]),
]
CHANNELS = [
    "agency",
    "agency",
    "agency",
    "bancassurance",
    "bancassurance",
    "broker",
    "telemarketing",
    "online",
]
MOBILE_PREFIXES = ["138", "139", "150", "151", "158", "159", "177", "186", "188", "199", "135", "137"]
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"

# The interchange columns are intake's (FORMATS.md); the demo writes exactly those.
POLICY_COLUMNS = intake.POLICY_COLUMNS
AGENT_COLUMNS = intake.REGISTRY_COLUMNS[ImportKind.AGENTS] + intake.OPTIONAL_COLUMNS[ImportKind.AGENTS]
OUTLET_COLUMNS = intake.REGISTRY_COLUMNS[ImportKind.OUTLETS]
COMPANY_COLUMNS = intake.REGISTRY_COLUMNS[ImportKind.COMPANY_NUMBERS]


def id_number(area: str, birth: dt.date, male: bool, rnd: random.Random) -> str:
    seq = rnd.randrange(0, 50) * 2 + (1 if male else 0)
    body = f"{area}{birth:%Y%m%d}{rnd.randrange(0, 10)}{seq % 100:02d}"[:17]
    body = body[:16] + str((int(body[16]) // 2) * 2 + (1 if male else 0))
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]


def person_name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + rnd.choice(GIVEN)


def mobile(rnd: random.Random) -> str:
    return rnd.choice(MOBILE_PREFIXES) + f"{rnd.randrange(0, 10**8):08d}"


def address(rnd: random.Random, region=None) -> str:
    province, city, districts, _, _ = region or rnd.choice(REGIONS)
    return (
        f"{province}{city or ''}{rnd.choice(districts)}{rnd.choice(STREETS)}{rnd.randrange(1, 400)}号"
        f"{rnd.randrange(1, 30)}栋{rnd.randrange(101, 2800)}室"
    )


def agent_rows(count: int = 40, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    return [
        {
            "agent_code": f"A{i:06d}",
            "name": person_name(rnd),
            "mobile": mobile(rnd),
            "phones": "",
            "branch_code": BRANCHES[i % len(BRANCHES)][0],
            "channel": CHANNELS[i % len(CHANNELS)],
            "outlet_code": "",
            "status": "left" if i % 37 == 36 else "active",
            "left_on": "",  # left on a date nobody recorded: every policy of theirs is flagged agent_left
        }
        for i in range(count)
    ]


def outlet_rows(count: int = 12, seed: int = 8) -> list[dict]:
    rnd = random.Random(seed)
    banks = ["中国工商银行", "中国建设银行", "中国邮政储蓄银行", "招商银行", "中国农业银行"]
    rows = []
    for i in range(count):
        region = REGIONS[i % len(REGIONS)]
        bank = banks[i % len(banks)]
        district = rnd.choice(region[2])
        rows.append(
            {
                "outlet_code": f"O{i:05d}",
                "name": f"{bank}{district}第{i}营业所",
                "institution": bank,
                "phones": f"{region[3]}-{rnd.randrange(2, 9)}{rnd.randrange(0, 10**7):07d}",
                "address": address(rnd, region),
                "branch_code": BRANCHES[i % len(BRANCHES)][0],
            }
        )
    return rows


def company_rows() -> list[dict]:
    return [
        {"number": "95519", "label": "客服热线"},
        {"number": "010-63631234", "label": "总公司总机"},
        {"number": "0310-85201234", "label": "邯郸分公司总机"},
    ]


def policy_rows(
    count: int,
    *,
    today: dt.date,
    seed: int = 42,
    agents: list[dict] | None = None,
    outlets: list[dict] | None = None,
    prefix: str = "PD",
) -> Iterator[dict]:
    """`count` policies issued in the three weeks before `today`, about one in four with a planted defect."""
    rnd = random.Random(seed)
    agents = agents or agent_rows()
    outlets = outlets or outlet_rows()
    for i in range(count):
        code, pname, ptype, term, pay_years = rnd.choice(PRODUCTS)
        channel = rnd.choice(CHANNELS)
        agent = agents[rnd.randrange(len(agents))]
        outlet = outlets[rnd.randrange(len(outlets))] if channel in ("bancassurance", "broker") else None
        branch_code, branch_name = rnd.choice(BRANCHES)
        issue = today - dt.timedelta(days=rnd.randrange(2, 22))
        receipt = issue + dt.timedelta(days=rnd.randrange(1, 5)) if rnd.random() > 0.05 else None
        if receipt and receipt > today:
            receipt = None
        region = rnd.choice(REGIONS)
        male = rnd.random() < 0.5
        birth = dt.date(rnd.randrange(1950, 2000), rnd.randrange(1, 13), rnd.randrange(1, 29))
        row = {
            "policy_no": f"{prefix}{i:010d}",
            "product_code": code,
            "product_name": pname,
            "product_type": ptype,
            "term_years": term,
            "premium": f"{rnd.choice([1200, 3600, 5000, 10000, 20000, 100000])}.00",
            "payment_frequency": "single" if 1 in pay_years and rnd.random() < 0.3 else "annual",
            "payment_years": str(rnd.choice(pay_years)),
            "channel": channel,
            "branch_code": branch_code,
            "branch_name": branch_name,
            "agent_code": agent["agent_code"],
            "agent_name": agent["name"],
            "outlet_code": outlet["outlet_code"] if outlet else "",
            "issue_date": issue.isoformat(),
            "receipt_date": receipt.isoformat() if receipt else "",
            "applicant_name": person_name(rnd),
            "applicant_gender": "M" if male else "F",
            "applicant_birth_date": birth.isoformat(),
            "applicant_id_type": "id_card",
            "applicant_id_no": id_number(region[4], birth, male, rnd),
            "applicant_mobile": mobile(rnd),
            "applicant_phone": "",
            "applicant_address": address(rnd, region),
            "insured_relation": "self",
            "insured_name": "",
            "insured_gender": "",
            "insured_birth_date": "",
            "insured_id_type": "",
            "insured_id_no": "",
            "beneficiaries": "",
        }
        if row["payment_frequency"] == "single":
            row["payment_years"] = "1"
        # The first rows plant every defect kind three times (so a small demo shows every flag code,
        # and three applicants share one number); later rows draw one at random, about one in four.
        defect = i // 3 if i < 51 else rnd.randrange(60)
        if defect in (4, 12, 13) and outlet is None:
            outlet = outlets[i % len(outlets)]
            row["channel"], row["outlet_code"] = "bancassurance", outlet["outlet_code"]
        if defect == 0:
            row["applicant_mobile"] = agent["mobile"]  # the salesperson's own phone
        elif defect == 1:
            row["applicant_mobile"] = row["applicant_mobile"][:10]
        elif defect == 2:
            row["applicant_address"] = row["applicant_address"][:6]
        elif defect == 3:
            row["applicant_id_no"] = row["applicant_id_no"][:17] + (
                "0" if row["applicant_id_no"][-1] != "0" else "1"
            )
        elif defect == 4 and outlet:
            row["applicant_phone"], row["applicant_mobile"] = outlet["phones"], ""
        elif defect == 5:
            row["applicant_mobile"] = "95519"
        elif defect == 6:
            row["applicant_phone"], row["applicant_mobile"] = row["applicant_mobile"][3:], ""  # no area code
        elif defect == 7:
            row["applicant_mobile"] = ""
        elif defect == 8:
            row["applicant_birth_date"] = (birth + dt.timedelta(days=1)).isoformat()
        elif defect == 9:
            row["applicant_gender"] = "F" if male else "M"
        elif defect == 10:
            row["agent_code"] = f"A9{rnd.randrange(10**5):05d}"
        elif defect == 11:
            row["agent_name"] = person_name(rnd)
        elif defect == 12 and outlet:
            row["outlet_code"] = ""
        elif defect == 13 and outlet:
            row["applicant_address"] = outlet["address"]
        elif defect == 14:
            row["applicant_phone"] = "010-88886666"  # one number given by many different applicants
        elif defect == 15:
            parent_birth = dt.date(birth.year - 30, birth.month, birth.day)
            row.update(
                insured_relation="child",
                insured_name=person_name(rnd),
                insured_gender="M",
                insured_birth_date=parent_birth.isoformat(),
                insured_id_type="id_card",
                insured_id_no=id_number(region[4], parent_birth, True, rnd),
            )
        elif defect == 16:
            row["applicant_address"] = ""
        yield row
