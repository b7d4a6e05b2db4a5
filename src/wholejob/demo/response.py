"""Response curves of the demo world: how hours and skill turn into results.

Every curve is concave (saturating exponential), so the first hours of a practice
buy the most; this is the diminishing-return shape the forecast and the optimiser
are meant to rediscover from the generated data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from wholejob.demo.profiles import BALANCED_HOURS, practice_index

__all__ = [
    "NEW_LOGO_SOURCES",
    "effect",
    "icp_share",
    "new_logo_rates",
    "saturation",
]

FloatArray = npt.NDArray[np.float64]

# Sources of new-logo opportunities, in the order of the rate columns.
NEW_LOGO_SOURCES: tuple[str, ...] = (
    "outbound", "inbound", "referral", "social", "marketing", "partner",
)

P = practice_index


def saturation(hours: FloatArray, half: float) -> FloatArray:
    """Return 1 - exp(-hours / half): 0 at no effort, approaching 1 with lots."""
    return 1.0 - np.exp(-np.asarray(hours) / half)


def effect(hours: FloatArray, skill: FloatArray, practice: str) -> FloatArray:
    """Return how well a practice is done this week, 0..1: skill times saturated effort.

    Effort is measured against the balanced rep's hours for the practice, so a
    balanced rep of average skill scores about 0.4 and an expert who invests
    heavily approaches 1.
    """
    ref = max(BALANCED_HOURS[practice], 0.5)
    return np.asarray(skill) * saturation(np.asarray(hours) * 1.2 / ref, 1.0)


def new_logo_rates(hours: FloatArray, skill: FloatArray, customers: FloatArray) -> FloatArray:
    """Return expected new-logo opportunities per week by source, shape (reps, sources).

    ``hours`` and ``skill`` are (reps, practices + other); ``customers`` is the
    number of customers each rep owns, since referrals need happy customers to ask.
    Inbound and partner leads arrive whatever the rep does.
    """
    def h(p: str) -> FloatArray:
        return hours[:, P(p)]

    def s(p: str) -> FloatArray:
        return 0.5 + skill[:, P(p)]

    n = hours.shape[0]
    outbound = 1.6 * saturation(h("prospecting"), 6.0) * s("prospecting")
    referral = (
        0.6 * saturation(h("referrals"), 1.5) * s("referrals")
        * np.minimum(1.0, (customers + 2.0) / 10.0)
    )
    social = 0.8 * saturation(h("social_selling"), 3.0) * s("social_selling")
    marketing = 0.25 + 0.5 * saturation(h("marketing_alignment"), 1.5) * s("marketing_alignment")
    inbound = np.full(n, 0.2)
    partner = np.full(n, 0.08)
    return np.stack([outbound, inbound, referral, social, marketing, partner], axis=1)


def icp_share(hours: FloatArray, skill: FloatArray) -> FloatArray:
    """Return the share of self-sourced opportunities a rep finds at ICP-fit accounts."""
    focus = saturation(hours[:, P("icp_focus")], 1.0) * (0.5 + skill[:, P("icp_focus")])
    return np.clip(0.3 + 0.5 * focus, 0.0, 0.95)
