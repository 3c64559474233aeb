"""The applicant's PDF receipt of a completed e-callback (reportlab, built-in CID font STSong-Light:
nothing to install, the font is referenced rather than embedded)."""

import io

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from ..models import ECallbackLink
from ..privacy import mask_id, mask_phone
from .sms import insurer_name

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _wrap(text: str, width: int = 38) -> list[str]:
    """Chinese text has no spaces: break it every `width` characters."""
    lines = []
    for paragraph in str(text).splitlines() or [""]:
        lines += [paragraph[i : i + width] for i in range(0, len(paragraph), width)] or [""]
    return lines


def _answer(entry: dict) -> str:
    value = entry.get("answer")
    if isinstance(value, dict):
        return "身份核验通过" if value.get("result") == "match" else "身份核验未通过"
    return {"yes": "是", "no": "否"}.get(value, str(value))


def receipt_pdf(link: ECallbackLink) -> bytes:
    """The receipt: policy, identity method, times, every question with the answer given."""
    font = _font()
    policy, attempt = link.task.policy, link.attempt
    applicant = policy.applicant
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"回访确认书 {policy.policy_no}")
    width, height = A4
    y = height - 25 * mm

    def line(text: str, size: int = 10, gap: float = 6) -> None:
        nonlocal y
        for part in _wrap(text, 38 if size <= 10 else 30):
            if y < 20 * mm:
                pdf.showPage()
                y = height - 20 * mm
            pdf.setFont(font, size)
            pdf.drawString(20 * mm, y, part)
            y -= gap * mm

    line(f"{insurer_name()} 犹豫期电子回访确认书", size=16, gap=10)
    line(f"保单号：{policy.policy_no}    产品：{policy.product_name}")
    if applicant:
        line(
            f"投保人：{applicant.name}    证件号码：{mask_id(applicant.id_no)}"
            f"    手机：{mask_phone(link.mobile)}"
        )
    local = timezone.localtime
    line(
        f"身份核验：短信验证码 + {'身份证件号码后六位' if 'id_last6' in link.identity_method else '出生日期'}"
        f"（{local(link.identified_at):%Y-%m-%d %H:%M}）"
        if link.identified_at
        else "身份核验：——"
    )
    if link.signed_at:
        line(f"电子签名：短信验证码确认（{local(link.signed_at):%Y-%m-%d %H:%M:%S}，北京时间）")
    line(f"结果：{attempt.get_outcome_display() if attempt else '——'}", gap=9)
    for number, entry in enumerate(attempt.answers if attempt else [], start=1):
        line(f"{number}. {entry.get('text', '')}")
        line(f"    回答：{_answer(entry)}", gap=8)
    line("本确认书由投保人通过保险公司官方系统自助完成电子化回访后生成。", size=9)
    pdf.save()
    return buffer.getvalue()
