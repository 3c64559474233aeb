"""Callback scripts as pure rules: placeholders, answer evaluation, branching, publishing, selection.

Everything here takes plain values (or objects with the attributes of `verification.models.Question`
and `Script`) and returns results with a reason. No database writes, no knowledge of calls or queues:
`callback` builds the context from a policy and stores what was said.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.translation import gettext as _

from .vocab import QuestionKind

# The placeholders a question text may use, filled from the policy and the call (zh-hans values).
PLACEHOLDERS: dict[str, str] = {
    "applicant_name": "投保人姓名",
    "applicant_salutation": "对投保人的称呼（陈先生 / 陈女士）",
    "policy_no": "保单号",
    "product_name": "产品名称",
    "product_type": "产品类型",
    "premium": "每期保费（元）",
    "payment_frequency": "交费方式",
    "payment_years": "交费年期",
    "term": "保险期间",
    "agent_name": "销售人员姓名",
    "agent_code": "销售人员工号",
    "branch_name": "分支机构",
    "receipt_date": "回执签收日期",
    "free_look_days": "犹豫期天数",
    "free_look_end": "犹豫期截止日",
    "insurer_hotline": "客服热线",
    "caller_name": "回访专员姓名",
}

YES, NO = "yes", "no"
# What an identity question may ask the customer to state; the agent types what was said.
IDENTITY_PARTS = ("birth_date", "id_last6")


class ScriptError(ValueError):
    """A script or an answer that breaks the rules; `messages` says what to fix."""

    def __init__(self, messages: str | Sequence[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


class QuestionLike(Protocol):
    key: str
    kind: str
    text_zh: str
    text_en: str
    choices: list
    passing_answers: list
    on_fail: str
    fail_outcome: str
    fail_flag: str
    follow_up_key: str
    is_follow_up: bool
    required: bool


@dataclass
class QuestionSpec:
    """A question as plain data (what the data migration and the tests build)."""

    key: str
    kind: str
    text_zh: str
    text_en: str = ""
    choices: list = field(default_factory=list)
    passing_answers: list = field(default_factory=list)
    on_fail: str = "continue"
    fail_outcome: str = ""
    fail_flag: str = ""
    flag_field: str = ""
    follow_up_key: str = ""
    is_follow_up: bool = False
    required: bool = True
    order: int = 0


# ---------------------------------------------------------------- placeholders


def placeholders_in(text: str) -> set[str]:
    """The placeholder names used in `text`; ScriptError for braces that do not parse."""
    names = set()
    try:
        for _literal, name, spec, conversion in string.Formatter().parse(text or ""):
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion:
                raise ScriptError(
                    _("“{%(name)s}” is not a placeholder: write a name like {applicant_name}.")
                    % {
                        "name": name
                        + (("!" + conversion) if conversion else "")
                        + ((":" + spec) if spec else "")
                    }
                )
            names.add(name)
    except ValueError as exc:
        raise ScriptError(
            _("The text has an unmatched brace: use {name} for a placeholder (%(error)s).") % {"error": exc}
        ) from exc
    return names


def check_placeholders(text: str) -> None:
    """ScriptError naming every placeholder in `text` that Huifang cannot fill."""
    unknown = sorted(placeholders_in(text) - PLACEHOLDERS.keys())
    if unknown:
        raise ScriptError(
            _("Unknown placeholder %(names)s. Known placeholders: %(known)s.")
            % {"names": ", ".join(f"{{{n}}}" for n in unknown), "known": ", ".join(sorted(PLACEHOLDERS))}
        )


class _Filled(dict):
    def __missing__(self, key: str) -> str:
        return "——"


def render(text: str, context: Mapping[str, Any]) -> str:
    """`text` with its placeholders filled from `context`; a value the policy lacks shows as ——."""
    values = _Filled({k: ("——" if v in (None, "") else v) for k, v in context.items()})
    return string.Formatter().vformat(text or "", (), values)


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Evaluation:
    """What an answer means: the value to store, whether it passes, and why not."""

    value: Any
    passed: bool
    reason: str = ""


def parse_date(raw: str) -> dt.date | None:
    """A date as people type it: 1960-09-08, 1960/9/8, 19600908, 1960年9月8日."""
    text = (raw or "").strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", text
    )
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def normalise_id_tail(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw or "").upper()


def identity_parts(question: QuestionLike) -> list[str]:
    return [p for p in (question.choices or IDENTITY_PARTS) if p in IDENTITY_PARTS] or list(IDENTITY_PARTS)


def check_identity(
    *,
    stated: Mapping[str, str],
    birth_date: dt.date | None,
    id_no: str,
    parts: Iterable[str] = IDENTITY_PARTS,
) -> Evaluation:
    """Compare what the customer stated with the policy; the result never contains the id number.

    The stored value is only match / mismatch per part, so neither the agent nor anyone reading the
    call record learns digits they did not already hear.
    """
    results: dict[str, bool] = {}
    missing = []
    for part in parts:
        said = (stated.get(part) or "").strip()
        if not said:
            missing.append(part)
            continue
        if part == "birth_date":
            stated_date = parse_date(said)
            if stated_date is None:
                raise ScriptError(_("Type the birth date the customer stated as YYYY-MM-DD."))
            results[part] = birth_date is not None and stated_date == birth_date
        elif part == "id_last6":
            said = normalise_id_tail(said)
            if not re.fullmatch(r"[0-9A-Z]{6}", said):
                raise ScriptError(_("Type the six last characters of the id number the customer stated."))
            tail = normalise_id_tail(id_no)[-6:]
            results[part] = len(tail) == 6 and said == tail
    if missing:
        raise ScriptError(_("Type what the customer stated for every part of the identity check."))
    passed = all(results.values())
    reason = "" if passed else _("What the customer stated does not match the policy.")
    return Evaluation(
        value={"result": "match" if passed else "mismatch", "parts": results}, passed=passed, reason=reason
    )


def evaluate(question: QuestionLike, answer: Any, *, identity: Mapping[str, Any] | None = None) -> Evaluation:
    """Judge one answer to `question`. ScriptError when the answer is not a valid answer at all.

    `identity` (identity questions only): {"birth_date": date, "id_no": str} from the policy.
    """
    kind = question.kind
    passing = list(question.passing_answers or [])
    if kind == "yes_no":
        value = str(answer or "").strip().lower()
        value = {"y": YES, "是": YES, "n": NO, "否": NO}.get(value, value)
        if value not in (YES, NO):
            raise ScriptError(_("Answer yes or no."))
        passed = value in (passing or [YES])
        return Evaluation(
            value,
            passed,
            ""
            if passed
            else _("The customer answered “%(answer)s”.") % {"answer": _("yes") if value == YES else _("no")},
        )
    if kind == "choice":
        value = str(answer or "").strip()
        choices = [str(c) for c in question.choices or []]
        if value.isdigit() and value not in choices and 1 <= int(value) <= len(choices):
            value = choices[int(value) - 1]  # keyboard shortcut 1-9
        if value not in choices:
            raise ScriptError(_("Choose one of the listed answers."))
        passed = not passing or value in passing
        return Evaluation(
            value, passed, "" if passed else _("The customer answered “%(answer)s”.") % {"answer": value}
        )
    if kind == "date":
        day = answer if isinstance(answer, dt.date) else parse_date(str(answer or ""))
        if day is None:
            raise ScriptError(_("Enter a date as YYYY-MM-DD."))
        value = day.isoformat()
        passed = not passing or value in passing
        return Evaluation(value, passed, "" if passed else _("The date given is not the expected one."))
    if kind == "text":
        value = str(answer or "").strip()
        if not value:
            raise ScriptError(_("Write down what the customer said."))
        if len(value) > 1000:
            raise ScriptError(_("Keep the note under 1000 characters."))
        passed = not passing or value in passing
        return Evaluation(value, passed)
    if kind == "identity":
        if not isinstance(answer, Mapping):
            raise ScriptError(_("Type what the customer stated for every part of the identity check."))
        identity = identity or {}
        return check_identity(
            stated=answer,
            birth_date=identity.get("birth_date"),
            id_no=identity.get("id_no") or "",
            parts=identity_parts(question),
        )
    raise ScriptError(_("Unknown question kind “%(kind)s”.") % {"kind": kind})


def confirming_answer(question: QuestionLike, *, identity: Mapping[str, Any], today: dt.date) -> Any:
    """What a customer who confirms everything says to `question` (the demo's calls, the tests): the
    first passing answer, else yes, the first choice, today or "无"; the policy's own identity details.

    `identity`: {"birth_date": date, "id_no": str} from the policy, as `evaluate` takes it.
    """
    if question.kind == "identity":
        return {"birth_date": str(identity.get("birth_date")), "id_last6": (identity.get("id_no") or "")[-6:]}
    usual = {
        "yes_no": YES,
        "choice": (question.choices or [""])[0],
        "date": today.isoformat(),
        "text": "无",
    }[question.kind]
    return (list(question.passing_answers or []) or [usual])[0]


# ---------------------------------------------------------------- branching


@dataclass
class Step:
    question: Any
    answer: Mapping | None  # the stored answer entry, None while unanswered
    passed: bool | None


@dataclass
class ScriptState:
    """Where a call stands in its script, derived from the answers given so far."""

    steps: list[Step]  # the questions on the path, in the order they are read
    current_key: str | None  # the first unanswered question on the path; None when done
    ended_with: str = ""  # an outcome a failing answer ended the script with
    ended_by: str = ""  # the key of that question
    flags: list[tuple[Any, Mapping]] = field(default_factory=list)  # (question, answer) raising a flag
    issues: list[str] = field(default_factory=list)  # keys of failed answers that did not end the call

    @property
    def complete(self) -> bool:
        return self.current_key is None

    @property
    def all_passed(self) -> bool:
        return self.complete and not self.ended_with and not self.issues

    def allows(self, outcome: str) -> bool:
        """Whether the answers allow closing as `outcome` (the failing answer's rule decides)."""
        if outcome == "verified":
            return self.all_passed
        if outcome == "verified_with_issues":
            return self.complete and not self.ended_with
        if outcome == "wrong_number":
            # A number is dead only when an answer says so: not while the person who answered is still
            # being asked whether it is the applicant's number, nor after they said it is.
            pending = (
                bool(self.steps) and self.steps[-1].answer is None and self.steps[-1].question.is_follow_up
            )
            return self.ended_with in ("", "wrong_number") and not pending
        return True

    @property
    def suggested_outcome(self) -> str:
        if self.ended_with:
            return self.ended_with
        if not self.complete:
            return ""
        return "verified" if not self.issues else "verified_with_issues"


def walk(questions: Sequence[QuestionLike], answers: Iterable[Mapping]) -> ScriptState:
    """Follow the script through the answers given: which questions were read, and what they mean.

    Main questions are read in order; a question marked "only as a follow-up" is read only when a
    failing answer branches to it, and then its own answer decides (a follow-up that passes clears
    the failure, e.g. the customer understood after the agent explained). A failing answer either
    ends the script with an outcome, raises a flag, or is noted as an issue. Non-required questions
    never make a call fail.
    """
    by_key = {q.key: q for q in questions}
    given = {a.get("key"): a for a in answers if isinstance(a, Mapping)}
    state = ScriptState(steps=[], current_key=None)
    seen: set[str] = set()

    def visit(question) -> bool:
        """Read `question` (and its follow-ups); False when the walk must stop here."""
        if question.key in seen:  # a loop in the branches: publish validation refuses these
            return True
        seen.add(question.key)
        entry = given.get(question.key)
        if entry is None:
            state.steps.append(Step(question, None, None))
            state.current_key = question.key
            return False
        passed = bool(entry.get("passed"))
        state.steps.append(Step(question, entry, passed))
        if question.on_fail == "end_any":  # e.g. "when can the applicant be reached?": any answer ends it
            state.ended_with, state.ended_by = question.fail_outcome, question.key
            return False
        if passed and question.on_fail == "end" and question.follow_up_key in by_key:
            # A question that ends the call on a failing answer may go on to a follow-up on a passing one
            # ("is this the applicant's number?" no → wrong number; yes → when can they be reached?).
            return visit(by_key[question.follow_up_key])
        if passed or not getattr(question, "required", True) and question.on_fail == "continue":
            return True
        if question.on_fail == "end":
            state.ended_with, state.ended_by = question.fail_outcome, question.key
            return False
        if question.on_fail == "follow_up" and question.follow_up_key in by_key:
            return visit(by_key[question.follow_up_key])
        if question.on_fail == "flag" and question.fail_flag:
            state.flags.append((question, entry))
        if getattr(question, "required", True):
            state.issues.append(question.key)
        return True

    for question in questions:
        if question.is_follow_up:
            continue
        if not visit(question):
            break
    return state


# ---------------------------------------------------------------- publishing


def publish_errors(
    questions: Sequence[QuestionLike], *, outcomes: Iterable[str] = (), flags: Iterable[str] = ()
) -> list[str]:
    """Everything that stops a script version from being published, as messages for the admin."""
    errors: list[str] = []
    outcomes, flags = set(outcomes), set(flags)
    if not questions:
        return [_("The script has no questions.")]
    keys = [q.key for q in questions]
    by_key = {q.key: q for q in questions}
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        errors.append(_("Two questions have the key “%(key)s”.") % {"key": key})
    if not any(q.kind == "identity" and not q.is_follow_up for q in questions):
        errors.append(_("The script has no identity check: add a question of the kind “Identity check”."))
    targets = set()
    for q in questions:
        label = q.key
        for text in (q.text_zh, q.text_en):
            try:
                check_placeholders(text)
            except ScriptError as exc:
                errors += [
                    _("Question “%(key)s”: %(error)s") % {"key": label, "error": m} for m in exc.messages
                ]
        if not (q.text_zh or "").strip():
            errors.append(_("Question “%(key)s” has no Chinese text.") % {"key": label})
        if q.kind not in QuestionKind.values:
            errors.append(_("Question “%(key)s” has an unknown kind.") % {"key": label})
        if q.kind == "choice":
            if len(q.choices or []) < 2:
                errors.append(
                    _("Question “%(key)s” is a single choice with fewer than two answers.") % {"key": label}
                )
            stray = [a for a in q.passing_answers or [] if a not in (q.choices or [])]
            if stray:
                errors.append(
                    _("Question “%(key)s”: passing answers %(answers)s are not among its choices.")
                    % {"key": label, "answers": ", ".join(map(str, stray))}
                )
        if q.kind == "yes_no" and any(a not in (YES, NO) for a in q.passing_answers or []):
            errors.append(
                _("Question “%(key)s”: a yes/no question passes only on “yes” or “no”.") % {"key": label}
            )
        if q.on_fail in ("end", "end_any") and (
            not q.fail_outcome or (outcomes and q.fail_outcome not in outcomes)
        ):
            errors.append(
                _("Question “%(key)s” ends the call on a failing answer but names no outcome.")
                % {"key": label}
            )
        if q.on_fail == "flag" and (not q.fail_flag or (flags and q.fail_flag not in flags)):
            errors.append(
                _("Question “%(key)s” raises a flag on a failing answer but names no flag.") % {"key": label}
            )
        if q.on_fail == "follow_up" or (q.on_fail == "end" and q.follow_up_key):
            if q.follow_up_key not in by_key or q.follow_up_key == q.key:
                errors.append(
                    _("Question “%(key)s” branches to “%(target)s”, which is not a question of this script.")
                    % {"key": label, "target": q.follow_up_key or "—"}
                )
            elif not by_key[q.follow_up_key].is_follow_up:
                errors.append(
                    _(
                        "Question “%(key)s” branches to “%(target)s”, which is not marked “only as a "
                        "follow-up”."
                    )
                    % {"key": label, "target": q.follow_up_key}
                )
            else:
                targets.add(q.follow_up_key)
    for q in questions:
        if q.is_follow_up and q.key not in targets:
            errors.append(
                _("Question “%(key)s” is only a follow-up, but no question branches to it.") % {"key": q.key}
            )
    # A chain of follow-ups that comes back to itself would never end.
    for q in questions:
        seen, cur = set(), q
        while cur is not None and cur.on_fail in ("follow_up", "end") and cur.follow_up_key in by_key:
            if cur.key in seen:
                errors.append(_("The follow-ups starting at “%(key)s” form a loop.") % {"key": q.key})
                break
            seen.add(cur.key)
            cur = by_key[cur.follow_up_key]
    return errors


# ---------------------------------------------------------------- selection


class ScriptLike(Protocol):
    code: str
    product_types: list
    channels: list
    min_age: int | None
    max_age: int | None


def applies(script: ScriptLike, *, product_type: str, channel: str, age: int | None) -> bool:
    """Whether `script`'s applicability rule covers a policy; blank parts of the rule match anything."""
    if script.product_types and product_type not in script.product_types:
        return False
    if script.channels and channel not in script.channels:
        return False
    if script.min_age is not None and (age is None or age < script.min_age):
        return False
    if script.max_age is not None and (age is None or age > script.max_age):
        return False
    return True


def specificity(script: ScriptLike) -> tuple:
    """Larger is more specific: more parts of the rule set, then narrower lists and age bands."""
    parts = (
        bool(script.product_types)
        + bool(script.channels)
        + (script.min_age is not None or script.max_age is not None)
    )
    band = (script.max_age if script.max_age is not None else 200) - (script.min_age or 0)
    return (parts, -len(script.product_types or ()), -len(script.channels or ()), -band)


def select_script(
    scripts: Iterable[Any], *, product_type: str, channel: str, age: int | None, get_script=lambda s: s
) -> Any | None:
    """The most specific of `scripts` that applies, or None. Ties go to the lower code.

    `get_script` maps an item to its script (e.g. a published version to `version.script`).
    """
    candidates = [
        s for s in scripts if applies(get_script(s), product_type=product_type, channel=channel, age=age)
    ]
    if not candidates:
        return None
    candidates.sort(key=lambda s: get_script(s).code)
    return max(candidates, key=lambda s: specificity(get_script(s)))


def age_on(birth_date: dt.date | None, day: dt.date) -> int | None:
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
