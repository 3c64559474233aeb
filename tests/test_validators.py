"""Contact-data validators (verification/validators.py): pure functions, no database."""

import datetime as dt

import phonenumbers
import pytest

from verification import validators as v


class TestMobile:
    @pytest.mark.parametrize(
        "raw",
        [
            "13800138000",
            "013800138000",
            "+86 138 0013 8000",
            "8613800138000",
            "138-0013-8000",
            "0086 13800138000",
            "+86 199 1497 2279",
        ],
    )
    def test_written_forms_normalise_to_one_e164(self, raw):
        check = v.check_mobile(raw)
        assert check.ok and check.value == ("+8613800138000" if "199" not in raw else "+8619914972279")

    @pytest.mark.parametrize(
        "raw,reason",
        [
            ("1801220165", "length"),
            ("138001380001", "length"),
            ("12345678901", "range"),
            ("14012345678", "range"),
            ("1380013800a", "characters"),
            ("", "blank"),
        ],
    )
    def test_invalid_mobiles_say_why(self, raw, reason):
        check = v.check_mobile(raw)
        assert not check.ok and check.reason == reason

    def test_full_width_digits_are_the_same_number(self):
        assert v.check_mobile("１３８００１３８０００").value == "+8613800138000"
        assert v.normalize_phone("１３８－００１３－８０００") == "+8613800138000"

    def test_fast_path_agrees_with_phonenumbers(self):
        import random

        rnd = random.Random(3)
        for _ in range(3000):
            number = f"1{rnd.randrange(3, 10)}{rnd.randrange(0, 10**9):09d}"
            parsed = phonenumbers.parse("+86" + number, None)
            reference = phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            )
            assert v.check_mobile(number).ok == reference, number


class TestLandline:
    @pytest.mark.parametrize(
        "raw,e164",
        [
            ("010-62345678", "+861062345678"),
            ("0311-85201234", "+8631185201234"),
            ("0755 33903402", "+8675533903402"),
            ("0310-5201234", "+863105201234"),
            ("+86 10 62345678", "+861062345678"),
        ],
    )
    def test_valid_with_area_code(self, raw, e164):
        assert v.check_landline(raw).value == e164

    @pytest.mark.parametrize(
        "raw,reason",
        [
            ("62345678", "no_area_code"),
            ("31130789", "no_area_code"),
            ("021 12345", "length"),
            ("010-6234567", "length"),
            ("0755-339034021", "length"),
            ("0001-1234567", "area_code"),
        ],
    )
    def test_invalid(self, raw, reason):
        check = v.check_landline(raw)
        assert not check.ok and check.reason == reason

    @pytest.mark.parametrize(
        "raw,e164",
        [
            ("86-571-87654321", "+8657187654321"),  # the country code without + or 00
            ("8610 62345678", "+861062345678"),
            ("０５７１－８７６５４３２１", "+8657187654321"),
        ],
    )
    def test_country_code_and_full_width(self, raw, e164):
        assert v.check_landline(raw).value == e164

    @pytest.mark.parametrize("raw", ["0571-8765432", "020-8765432", "0755-3390340"])
    def test_subscriber_length_is_the_area_s_own(self, raw):
        # Hangzhou, Guangzhou and Shenzhen numbers have 8 digits; a 4-digit area code alone says nothing.
        check = v.check_landline(raw)
        assert not check.ok and check.reason == "length"

    def test_stricter_than_phonenumbers_on_length(self):
        assert phonenumbers.is_valid_number(phonenumbers.parse("021 12345", "CN"))
        assert not v.check_landline("021 12345").ok


class TestNormalizePhone:
    def test_company_service_numbers_keep_digits(self):
        assert v.normalize_phone("95519") == "95519"
        assert v.normalize_phone("400-820-8888") == "4008208888"

    def test_mobile_and_landline(self):
        assert v.normalize_phone("013800138000") == "+8613800138000"
        assert v.normalize_phone("010-63631234") == "+861063631234"
        assert v.normalize_phone("  ") == ""


class TestResidentId:
    @pytest.mark.parametrize(
        "number", ["130426197911223894", "440305196405148247", "32010219470829371x", "310115195805316033"]
    )
    def test_real_area_codes_are_accepted(self, number):
        # stdnum.cn.ric rejects several of these with InvalidComponent; Huifang does not check counties.
        assert v.check_resident_id(number).ok

    def test_birth_date_and_gender_inside(self):
        check = v.check_resident_id("130104199504135189")
        assert check.birth_date == dt.date(1995, 4, 13) and check.gender == "F"
        assert v.check_resident_id("130426197911223894").gender == "M"

    @pytest.mark.parametrize(
        "number,reason",
        [
            ("320102199408316090", "check_digit"),
            ("13042619791122389", "length"),
            ("13042619791122389A", "characters"),
            ("130426197913323894", "birth_date"),
            ("990426197911223894", "area"),
            ("130426210011223894", "birth_date"),
        ],
    )
    def test_invalid(self, number, reason):
        assert v.check_resident_id(number, today=dt.date(2026, 11, 25)).reason == reason

    def test_old_fifteen_digit_numbers_are_no_longer_valid(self):
        # First-generation cards (15 digits, no check digit) stopped being valid on 1 January 2013.
        check = v.check_resident_id("130426791122389")
        assert not check.ok and check.reason == "first_generation"
        assert check.birth_date == dt.date(1979, 11, 22) and check.gender == "M"

    def test_full_width_digits_say_so(self):
        check = v.check_resident_id("１３０４２６１９７９１１２２３８９４")
        assert not check.ok and check.reason == "full_width"

    def test_check_digit_agrees_with_stdnum(self):
        from stdnum.cn import ric

        body = "11010519491231002"
        assert v.id_check_digit(body) == ric.calc_check_digit(body + "0")


class TestAddress:
    @pytest.mark.parametrize(
        "address",
        [
            "河北省邯郸市涉县解放大道291号29栋1389室",  # a county counts as the district level
            "河北省邯郸市涉县索堡镇索堡村",  # a village without a street number
            "上海市浦东新区滨江大道17号1栋484室",  # municipalities have no separate city
            "重庆市巫山县广东路5号",
            "内蒙古自治区呼和浩特市新城区新华大街1号",
            "广西壮族自治区南宁市青秀区民族大道100号",
            "山东省济南市市中区经十路1号",
            "广东省东莞市虎门镇人民路3号",  # a city without districts
            "北京市朝阳区幸福小区3号楼2单元501室",
            "四川省成都市武侯区人民南路四段1号",  # a road section (段) with its house number
            "湖北省恩施土家族苗族自治州恩施市舒家坝1号",  # other road forms: a number makes it a street
            "浙江省杭州市西湖区文三路九十号",  # house numbers in Chinese numerals
            "中国北京市朝阳区建国路88号",  # a leading 中国 is not a missing province
            "浙江杭州西湖区文三路90号",  # province and city abbreviated (no 省, no 市)
            "香港特别行政区九龙尖沙咀弥敦道100号",  # SARs have no province
            "香港九龙旺角亚皆老街8号",
            "澳门特别行政区新马路1号",
        ],
    )
    def test_complete(self, address):
        assert v.check_address(address).ok

    @pytest.mark.parametrize(
        "address,reason",
        [
            ("解放大道88号", "province"),
            ("西湖区文三路1号", "province"),
            ("北京市海淀区", "street"),
            ("陕西省西安市雁塔区", "street"),
            ("广东省深圳市和平路309号", "district"),
            ("广东省南山区和平路3号", "city"),
            ("重庆市万州区高笋塘街道1号", "street"),  # 街道 is a sub-district, not a street
            ("湖南省长沙市长沙县星沙街道1号", "street"),
            ("香港特别行政区九龙", "street"),
            ("", "blank"),
        ],
    )
    def test_incomplete(self, address, reason):
        assert v.check_address(address).reason == reason

    def test_address_key_ignores_spacing_and_width(self):
        assert v.address_key("北京市 朝阳区 建国路３８０号") == v.address_key("北京市朝阳区建国路380号")

    def test_address_key_fast_path_agrees_with_the_full_translation(self):
        # address_key skips str.translate when no full-width character is present: same result.
        import random
        import re

        rnd = random.Random(7)
        alphabet = "北京市朝阳区建国路号楼室村组 -#,，。.、·()（）0123456789０１２３４５６７８９－＃ab"
        for _ in range(5000):
            raw = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 40)))
            reference = re.sub(r"[\s,，。.、·()（）#\-]", "", raw.translate(v._FULLWIDTH))[:300]
            assert v.address_key(raw) == reference
