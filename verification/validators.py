"""Contact-data validators: plain functions over plain values, each returning a `Check` with a reason.

The rules of shared/FORMATS.md ("Contact-data flags"). Pure: no database, no imports from `callback`,
usable for a million-row import (fast paths first) and for a single form edit alike.

- Mobiles: `phonenumbers` is the reference; a digits regex and a 4-digit prefix table derived from it
  decide nearly every number in about a microsecond, the library decides the rest.
- Landlines: the area code must be one `phonenumbers` knows, and the subscriber number as long as
  `phonenumbers` knows it for that area (Hangzhou 8 digits, some smaller cities 7); 3-digit area codes
  (010, 02x) always take 8 (`phonenumbers` accepts `021 12345`).
- Full-width digits (what a Chinese input method types) are the same digits.
- Resident id: `stdnum.cn.ric` rejects real county codes (310115, 440305, 130426…) with
  InvalidComponent, so length, characters, birth date and check digit are checked here. The 15-digit
  first-generation cards stopped being valid on 1 January 2013: such a number is readable but invalid.
- Addresses: judged from the text itself (cpca guesses missing levels), with a compact table of
  provincial names and the suffixes of the lower levels.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from operator import mul

import phonenumbers


@dataclass(frozen=True, slots=True)
class Check:
    """The result of one rule: `ok`, a machine `reason` when not ok, and the normalised value."""

    ok: bool
    reason: str = ""
    value: str = ""

    def __bool__(self) -> bool:
        return self.ok


_SEPARATORS = re.compile(r"[\s\-()（）—–.·]")
_DIGITS = re.compile(r"[0-9]+")
_MOBILE_SHAPE = re.compile(r"1[3-9]\d{9}")
_HALF_WIDTH = str.maketrans("０１２３４５６７８９＋－（）＃", "0123456789+-()#")


def half_width(text: str) -> str:
    """Full-width digits and signs as their ASCII forms (only non-ASCII text is translated)."""
    return text if text.isascii() else text.translate(_HALF_WIDTH)


def digits_of(raw: str) -> str:
    """The number as written, without spaces, dashes and brackets (a leading + kept)."""
    return _SEPARATORS.sub("", half_width(raw or ""))


def _national(raw: str) -> tuple[str, bool]:
    """(national digits, had a country code): strips +86 / 0086 and returns the rest."""
    text = digits_of(raw)
    if text.startswith("+86"):
        return text[3:], True
    if text.startswith("0086"):
        return text[4:], True
    return text, False


# --- mobiles ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _mobile_prefix_table() -> dict[str, bool | None]:
    """4-digit prefix → True (every number valid), False (none), None (mixed: ask phonenumbers)."""
    table: dict[str, bool | None] = {}
    for prefix in range(1300, 2000):
        results = {
            phonenumbers.is_valid_number(phonenumbers.parse(f"+86{prefix}{tail}", None))
            for tail in ("0000000", "3456789", "5555555", "9999999")
        }
        table[str(prefix)] = results.pop() if len(results) == 1 else None
    return table


def _is_real_mobile(number: str) -> bool:
    known = _mobile_prefix_table().get(number[:4], False)
    if known is None:
        parsed = phonenumbers.parse("+86" + number, None)
        return phonenumbers.number_type(parsed) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ) and phonenumbers.is_valid_number(parsed)
    return known


def check_mobile(raw: str) -> Check:
    """A mainland mobile: strip separators, +86/86/a leading 0; 11 digits of a real mobile range."""
    number, _ = _national(raw)
    if not number:
        return Check(False, "blank")
    if len(number) == 13 and number.startswith("86"):
        number = number[2:]
    elif len(number) == 12 and number.startswith("0"):
        number = number[1:]
    if not number.isdigit():
        return Check(False, "characters")
    if len(number) != 11:
        return Check(False, "length")
    if not _MOBILE_SHAPE.fullmatch(number) or not _is_real_mobile(number):
        return Check(False, "range")
    return Check(True, value="+86" + number)


# --- landlines ----------------------------------------------------------------------------------


_FIXED = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _is_fixed_line(national: str) -> bool:
    parsed = phonenumbers.parse("+86" + national, None)
    return phonenumbers.number_type(parsed) in _FIXED and phonenumbers.is_valid_number(parsed)


@lru_cache(maxsize=1)
def _subscriber_lengths() -> dict[str, frozenset[int]]:
    """Area code (with the trunk 0) → the subscriber lengths phonenumbers knows for its fixed lines."""
    lengths = {}
    for code in ["10"] + [f"2{i}" for i in range(10)] + [str(n) for n in range(300, 1000)]:
        found = frozenset(
            length
            for length in ((8,) if len(code) == 2 else (7, 8))
            if any(_is_fixed_line(f"{code}{first}{'2345678'[: length - 1]}") for first in "2345678")
        )
        if found:
            lengths["0" + code] = found
    return lengths


def _split_area(number: str) -> tuple[str, str] | None:
    """('010', '62345678') for a national number with its trunk 0, or None when no area code fits."""
    if not number.startswith("0"):
        return None
    if number[1] in "12":  # 010 and 020–029: the 3-digit area codes
        return number[:3], number[3:]
    return number[:4], number[4:]


def check_landline(raw: str) -> Check:
    """A landline with its area code, and as many subscriber digits as that area's numbers have."""
    number, had_country = _national(raw)
    if not number:
        return Check(False, "blank")
    number = number.split("转")[0].split("ext")[0]
    if not number.isdigit():
        return Check(False, "characters")
    if not had_country and number.startswith("86") and len(number) in (12, 13):
        number, had_country = number[2:], True  # 86-571-87654321: the country code without + or 00
    if had_country and not number.startswith("0"):
        number = "0" + number
    parts = _split_area(number) if len(number) >= 3 else None
    if parts is None:
        return Check(False, "no_area_code")
    area, subscriber = parts
    allowed = _subscriber_lengths().get(area)
    if allowed is None:
        return Check(False, "area_code")
    if len(subscriber) not in allowed:
        return Check(False, "length")
    if subscriber[0] in "01":
        return Check(False, "subscriber")
    return Check(True, value="+86" + area[1:] + subscriber)


def normalize_phone(raw: str) -> str:
    """One comparable form for any number: E.164 for mobiles and landlines, else its digits.

    Company service numbers (95519, 400…) have no E.164 form and keep their digits, so `95519`
    written by a customer matches the registered hotline.
    """
    if not raw or not raw.strip():
        return ""
    mobile = check_mobile(raw)
    if mobile.ok:
        return mobile.value
    landline = check_landline(raw)
    if landline.ok:
        return landline.value
    return "".join(_DIGITS.findall(raw))[:20]


# --- resident identity card numbers -------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"\d{17}[\dX]")
# First two digits: the provincial level (GB/T 2260). Finer area codes change too often to check.
_ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 "
    "71 81 82 83 91".split()
)


@dataclass(frozen=True, slots=True)
class IdCheck:
    """A resident id number checked: `ok`/`reason`, and when readable the birth date and gender in it."""

    ok: bool
    reason: str = ""
    birth_date: dt.date | None = None
    gender: str = ""  # "M" or "F"

    def __bool__(self) -> bool:
        return self.ok


def id_check_digit(body17: str) -> str:
    return _ID_CHECK[sum(map(mul, map(int, body17), _ID_WEIGHTS)) % 11]


@lru_cache(maxsize=65536)
def _birth(text: str) -> dt.date | None:
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def check_resident_id(raw: str, *, today: dt.date | None = None) -> IdCheck:
    """An 18-character resident id: digits and a final X, a real birth date, the check digit (GB 11643).

    A 15-digit first-generation number is read (birth date, gender) but invalid: those cards stopped
    being valid on 1 January 2013.
    """
    number = (raw or "").strip().upper()
    if not number:
        return IdCheck(False, "blank")
    if not number.isascii() and half_width(number) != number:
        return IdCheck(False, "full_width")
    if len(number) == 15:
        if not number.isdigit():
            return IdCheck(False, "characters")
        birth_text, gender_digit = "19" + number[6:12], number[14]
    elif len(number) == 18:
        if not _ID_SHAPE.fullmatch(number):
            return IdCheck(False, "characters")
        birth_text, gender_digit = number[6:14], number[16]
    else:
        return IdCheck(False, "length")
    if number[:2] not in _ID_PROVINCES:
        return IdCheck(False, "area")
    birth = _birth(birth_text)
    if birth is None:
        return IdCheck(False, "birth_date")
    if birth.year < 1900 or birth > (today or dt.date.today()):
        return IdCheck(False, "birth_date")
    gender = "M" if gender_digit in "13579" else "F"
    if len(number) == 15:
        return IdCheck(False, "first_generation", birth, gender)
    if id_check_digit(number[:17]) != number[17]:
        return IdCheck(False, "check_digit", birth, gender)
    return IdCheck(True, "", birth, gender)


# --- addresses ----------------------------------------------------------------------------------

MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
PROVINCES = (
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
)
REGIONS = {
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
}
# Prefecture-level cities without districts, and county-level cities governed by the province:
# their addresses go straight to towns and streets.
CITIES_WITHOUT_DISTRICTS = (
    "东莞",
    "中山",
    "儋州",
    "嘉峪关",
    "仙桃",
    "潜江",
    "天门",
    "济源",
    "石河子",
    "五家渠",
    "阿拉尔",
    "图木舒克",
    "北屯",
    "铁门关",
    "双河",
    "可克达拉",
    "昆玉",
    "胡杨河",
    "新星",
    "白杨",
    "五指山",
    "琼海",
    "文昌",
    "万宁",
    "东方",
)

_PROVINCE_RE = re.compile(
    "^(?:(?P<muni>" + "|".join(MUNICIPALITIES) + ")市?"
    "|(?P<prov>" + "|".join(PROVINCES) + ")省?"
    "|(?P<region>"
    + "|".join(REGIONS)
    + ")(?:"
    + "|".join(v[len(k) :] for k, v in REGIONS.items())
    + "|自治区)?)"
)
_CITY_RE = re.compile(r"^[^\d\s省市区县]{1,9}?(?:市|自治州|地区|盟)")
_DISTRICT_RE = re.compile(r"^[^\d\s省]{1,9}?(?:区|县|旗|市)")
_MUNI_CITY_RE = re.compile(r"^(?:市辖区|县|市)")
_COUNTRY_RE = re.compile(r"^(?:中华人民共和国|中国)")
# Hong Kong and Macao have no provinces, cities or districts in the mainland sense.
_SAR_RE = re.compile(r"^(?:香港|澳门|澳門)(?:特别行政区|特別行政區)?")
_NUMBER = r"(?:\d+|[零〇一二三四五六七八九十百千]+)(?:-\d+)?"
# A house number after a place name makes a street (路, 街, 道, 巷, 弄, 段, 坝, 里…), except after the
# names of administrative areas: 街道 (a sub-district), 镇, 乡 and the district levels are not streets.
_HOUSE_NUMBER_RE = re.compile(r"(?<![\d零〇一二三四五六七八九十百千])" + _NUMBER + r"\s*号(?!楼)")
_NOT_A_STREET = ("街道", "镇", "乡", "区", "县", "市", "省", "旗", "州")
_BUILDING_RE = re.compile(r"\d+\s*(?:栋|幢|号楼|座|单元|室|层|楼)")
_VILLAGE_RE = re.compile(r"[\u4e00-\u9fff]{1,12}(?:村|屯|嘎查)(?:\d+组|[一二三四五六七八九十]+组)?")
_FULLWIDTH = str.maketrans("０１２３４５６７８９－＃", "0123456789-#")


_FULLWIDTH_ANY = re.compile("[０-９－＃]")
_ADDRESS_PUNCTUATION = re.compile(r"[\s,，。.、·()（）#\-]")


def address_key(raw: str) -> str:
    """A comparable form of an address: no spaces or punctuation, half-width digits."""
    text = raw or ""
    if _FULLWIDTH_ANY.search(text):  # translate() is slow on CJK text: only when there is something to do
        text = text.translate(_FULLWIDTH)
    return _ADDRESS_PUNCTUATION.sub("", text)[:300]


def _has_street_number(text: str) -> bool:
    """A house number right after a place name that is not an administrative area."""
    for match in _HOUSE_NUMBER_RE.finditer(text):
        before = text[: match.start()].rstrip()
        if before and "\u4e00" <= before[-1] <= "\u9fff" and not before.endswith(_NOT_A_STREET):
            return True
    return False


def _has_street_building_or_village(text: str) -> bool:
    return bool(_has_street_number(text) or _BUILDING_RE.search(text) or _VILLAGE_RE.search(text))


def _abbreviated_city(text: str) -> int:
    """Length of a city name written without 市 (浙江杭州西湖区…): 2 to 4 characters before a district."""
    for length in (2, 3, 4):
        name = text[:length]
        if len(name) == length and not any(c.isdigit() or c in "省市区县" for c in name):
            if _DISTRICT_RE.match(text[length:]):
                return length
    return 0


def check_address(raw: str) -> Check:
    """Province, city and district present (municipalities have no city; 县/旗/市 count as district;
    abbreviated names such as 浙江杭州 are the same places), and a street with a house number, a
    building or room, or a village. A leading 中国 is no level; Hong Kong and Macao have none."""
    text = address_key(raw)
    if not text:
        return Check(False, "blank")
    body = _COUNTRY_RE.sub("", text)
    sar = _SAR_RE.match(body)
    if sar:
        if _has_street_building_or_village(body[sar.end() :]):
            return Check(True, value=text)
        return Check(False, "street")
    match = _PROVINCE_RE.match(body)
    if not match:
        return Check(False, "province")
    rest = body[match.end() :]
    if match.group("muni"):
        rest = rest[_MUNI_CITY_RE.match(rest).end() :] if _MUNI_CITY_RE.match(rest) else rest
        district = _DISTRICT_RE.match(rest)
        if not district:
            return Check(False, "district")
        rest = rest[district.end() :]
    else:
        city = _CITY_RE.match(rest)
        city_end = city.end() if city else _abbreviated_city(rest)
        if not city_end:
            return Check(False, "city")
        city_name = rest[:city_end]
        rest = rest[city_end:]
        district = _DISTRICT_RE.match(rest)
        if district:
            rest = rest[district.end() :]
        elif not city_name.startswith(CITIES_WITHOUT_DISTRICTS):
            return Check(False, "district")
    if _has_street_building_or_village(rest):
        return Check(True, value=text)
    return Check(False, "street")
