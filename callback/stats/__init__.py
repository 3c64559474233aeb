"""Failure statistics: what was verified in time, what failed, why, and who is behind it.

Other packages (regulator tables, e-callback share, fallbacks) read these selectors so that their
totals agree with the statistics pages. Definitions: `definitions` (in time, decided, AAPOR rates)
and `periods` (which days, which date decides; Beijing calendar days).
"""

from .definitions import RESULTS, rate
from .periods import BASES, CALL, PRESETS, RECEIPT, Period, day_start, preset_period
from .selectors import (
    ATTEMPT_DIMENSIONS,
    FILTER_KEYS,
    POLICY_DIMENSIONS,
    TIME_UNITS,
    AgentFigures,
    Compliance,
    agent_figures,
    attempts,
    breakdown,
    compliance,
    flag_reasons,
    over_time,
    reasons,
    tasks,
)

__all__ = [
    "ATTEMPT_DIMENSIONS",
    "BASES",
    "CALL",
    "FILTER_KEYS",
    "POLICY_DIMENSIONS",
    "PRESETS",
    "RECEIPT",
    "RESULTS",
    "TIME_UNITS",
    "AgentFigures",
    "Compliance",
    "Period",
    "agent_figures",
    "attempts",
    "breakdown",
    "compliance",
    "day_start",
    "flag_reasons",
    "over_time",
    "preset_period",
    "rate",
    "reasons",
    "tasks",
]
