"""The printable letter (犹豫期回访函) with its tear-off receipt, one page per policy, and the day's batch
as one PDF (fallback issue).

reportlab draws Chinese with its built-in CID font STSong-Light: nothing to install, the font is named,
not embedded, and every PDF reader in China has it (shared/LIBRARIES.md).
"""

import io
from collections.abc import Iterable

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from verification import scripts

from ..models import FallbackDelivery
from ..script_for_policy import script_context

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK")
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=9, leading=13)
_TITLE = ParagraphStyle("title", parent=_BODY, fontSize=16, leading=24, alignment=1)
_HEAD = ParagraphStyle("head", parent=_BODY, fontSize=12, leading=18, alignment=1)

# On paper the applicant answers in writing: the phone's greeting becomes a statement they sign.
LETTER_TEXT = {
    "is_applicant": "本回执由投保人{applicant_name}本人填写并亲笔签名。",
    "phone_own": "您投保时留的联系电话是您本人在使用的号码吗？",
    "customer_questions": (
        "您对这份保单还有其他疑问或意见吗？请写在右侧（没有请填“无”）；也可拨打客服热线{insurer_hotline}。"
    ),
}


def receipt_questions(delivery: FallbackDelivery) -> list:
    """The script's main questions as the receipt asks them (follow-ups are for calls)."""
    version = delivery.attempt.script_version
    if version is None:
        return []
    return [q for q in version.questions.order_by("order") if not q.is_follow_up]


IDENTITY_TEXT = "请填写您的出生日期和证件号码后六位。"


def receipt_items(delivery: FallbackDelivery) -> list[tuple]:
    """(question, text as printed) for each line of the receipt: the letter, the visit list and the
    receipt form show the same words."""
    task = delivery.attempt.task
    context = script_context(policy=task.policy, task=task)
    return [
        (
            question,
            IDENTITY_TEXT
            if question.kind == "identity"
            else scripts.render(LETTER_TEXT.get(question.key, question.text_zh), context),
        )
        for question in receipt_questions(delivery)
    ]


def _boxes(question) -> str:
    if question.kind == "yes_no":
        return "□ 是　　□ 否"
    if question.kind == "choice":
        return "　".join(f"□ {c}" for c in question.choices or [])
    if question.kind == "date":
        return "______年____月____日"
    return "_" * 40


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _letter(delivery: FallbackDelivery) -> list:
    task = delivery.attempt.task
    policy = task.policy
    applicant = policy.applicant
    context = script_context(policy=policy, task=task)
    name = context["applicant_salutation"] or context["applicant_name"]
    reply_by = f"{delivery.reply_by.year}年{delivery.reply_by.month}月{delivery.reply_by.day}日"
    flow = [
        Paragraph(_esc(f"{applicant.name if applicant else ''}　收"), _BODY),
        Paragraph(_esc(applicant.address if applicant else ""), _BODY),
        Spacer(1, 6 * mm),
        Paragraph("犹豫期回访函", _TITLE),
        Spacer(1, 3 * mm),
        Paragraph(_esc(f"尊敬的{name}："), _BODY),
        Paragraph(
            _esc(
                f"您于{context['receipt_date']}签收了保单{policy.policy_no}（{policy.product_name}，"
                f"{context['product_type']}，保险期间{context['term']}，每期保费{context['premium']}元，"
                f"{context['payment_frequency']}，交费{context['payment_years']}年）。按照监管规定，我们需要在犹豫期内"
                f"向您本人回访，确认保单由您本人投保、您已了解产品内容。我们未能通过电话联系到您，"
                f"请您阅读下方回执，逐项勾选并亲笔签名，于{reply_by}前寄回，"
                f"或交至{policy.branch_name or '我司分支机构'}。"
                f"您的犹豫期至{context['free_look_end']}止；犹豫期内退保可退还已交保费，犹豫期后退保仅退还现金价值，"
                f"可能会有损失。如有疑问，请拨打客服热线{context['insurer_hotline']}。"
            ),
            _BODY,
        ),
        Spacer(1, 3 * mm),
        Paragraph(_esc(f"{timezone.localdate():%Y年%m月%d日}"), _BODY),
        Spacer(1, 4 * mm),
        Paragraph(
            "- - - - - - - - - - - - - - - - - 请沿此线剪下回执 - - - - - - - - - - - - - - - - -", _SMALL
        ),
        Spacer(1, 2 * mm),
        Paragraph(_esc(f"犹豫期回访回执　保单号 {policy.policy_no}　回执编号 HZ{delivery.pk:08d}"), _HEAD),
    ]
    rows = []
    for i, (question, text) in enumerate(receipt_items(delivery), start=1):
        boxes = "出生日期 ________　证件后六位 ________" if question.kind == "identity" else _boxes(question)
        rows.append([Paragraph(f"{i}. {_esc(text)}", _SMALL), Paragraph(_esc(boxes), _SMALL)])
    if rows:
        table = Table(rows, colWidths=[118 * mm, 52 * mm])
        table.setStyle(
            TableStyle(
                [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#999999")]
            )
        )
        flow.append(table)
    flow += [
        Spacer(1, 4 * mm),
        Paragraph("投保人签名：________________　　　日期：______年____月____日", _BODY),
        Paragraph(_esc(f"请于{reply_by}前寄回。逾期未寄回的，我们将安排分支机构上门回访。"), _SMALL),
        PageBreak(),
    ]
    return flow


def letters_pdf(deliveries: Iterable[FallbackDelivery]) -> bytes:
    """One PDF with one letter and receipt per delivery, in the order given."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=15 * mm,
        title="犹豫期回访函",
    )
    flow = []
    for delivery in deliveries:
        flow += _letter(delivery)
    if not flow:
        flow = [Paragraph("今日没有待打印的回访函。", _BODY)]
    doc.build(flow)
    return buffer.getvalue()
