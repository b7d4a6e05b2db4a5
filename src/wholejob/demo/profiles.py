"""Behaviour profiles of demo reps: weekly time allocation and skill per practice.

A profile is a multiplier on a balanced weekly allocation of hours over the 18
practices of the job model plus ``other``, and an offset on the rep's skill in
each practice. The simulation turns hours and skill into outcomes, so a profile's
neglect shows up in the data the same way it does in a real CRM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALL_PRACTICES",
    "OTHER",
    "PLANTED",
    "PRACTICES",
    "PROFILES",
    "PROFILE_NAMES",
    "Profile",
    "assign_profiles",
    "practice_index",
]

PRACTICES: tuple[str, ...] = (
    "prospecting",
    "referrals",
    "icp_focus",
    "qualification",
    "customer_understanding",
    "relationships",
    "insight",
    "buying_process",
    "value_creation",
    "sales_process",
    "proposals",
    "closing",
    "new_logos",
    "account_growth",
    "social_selling",
    "call_planning",
    "land_and_expand",
    "marketing_alignment",
)
OTHER = "other"
ALL_PRACTICES: tuple[str, ...] = (*PRACTICES, OTHER)


def practice_index(name: str) -> int:
    """Return the column of ``name`` in allocation and skill arrays."""
    return ALL_PRACTICES.index(name)


# Hours per week of a balanced rep working 40 hours. value_creation gets no hours
# of its own: the job model treats it as a quality of all customer-facing time.
BALANCED_HOURS: dict[str, float] = {
    "prospecting": 7.0,
    "referrals": 1.5,
    "icp_focus": 1.0,
    "qualification": 3.0,
    "customer_understanding": 2.5,
    "relationships": 2.5,
    "insight": 1.5,
    "buying_process": 2.0,
    "value_creation": 0.0,
    "sales_process": 2.0,
    "proposals": 2.0,
    "closing": 2.5,
    "new_logos": 2.0,
    "account_growth": 3.0,
    "social_selling": 1.5,
    "call_planning": 1.5,
    "land_and_expand": 1.0,
    "marketing_alignment": 1.0,
    "other": 5.0,
}


@dataclass(frozen=True)
class Profile:
    """A behaviour profile: hour multipliers and skill offsets per practice."""

    name: str
    description: str
    hours: dict[str, float] = field(default_factory=dict)
    skill: dict[str, float] = field(default_factory=dict)
    customer_book: float = 1.0  # multiplier on the number of customers the rep owns

    def allocation(self) -> npt.NDArray[np.float64]:
        """Return the profile's share of weekly hours per practice (sums to 1)."""
        h = np.array(
            [BALANCED_HOURS[p] * self.hours.get(p, 1.0) for p in ALL_PRACTICES],
            dtype=np.float64,
        )
        return np.asarray(h / h.sum(), dtype=np.float64)

    def skill_offsets(self) -> npt.NDArray[np.float64]:
        """Return the profile's offset on skill per practice (0 when unchanged)."""
        return np.array([self.skill.get(p, 0.0) for p in ALL_PRACTICES], dtype=np.float64)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("balanced", "Works every part of the job."),
        Profile(
            "avoids_prospecting",
            "Likes working existing deals; rarely prospects, so the pipeline dries up.",
            hours={"prospecting": 0.15, "social_selling": 0.5, "relationships": 1.6,
                   "closing": 1.4, "other": 1.5, "customer_understanding": 1.3},
            skill={"prospecting": -0.2},
        ),
        Profile(
            "qualifies_badly",
            "Prospects hard but never disqualifies: many deals die late.",
            hours={"qualification": 0.12, "customer_understanding": 0.4,
                   "prospecting": 1.4, "proposals": 1.6, "new_logos": 1.3},
            skill={"qualification": -0.4, "customer_understanding": -0.2},
        ),
        Profile(
            "closer_no_pipeline",
            "A great closer who builds no pipeline of their own.",
            hours={"prospecting": 0.12, "referrals": 0.3, "social_selling": 0.2,
                   "marketing_alignment": 0.3, "closing": 2.8, "buying_process": 1.6,
                   "proposals": 1.4, "other": 1.3},
            skill={"closing": 0.3, "buying_process": 0.2, "proposals": 0.1,
                   "prospecting": -0.1},
        ),
        Profile(
            "account_farmer",
            "Looks after existing customers and neglects new logos.",
            hours={"new_logos": 0.1, "prospecting": 0.2, "social_selling": 0.3,
                   "marketing_alignment": 0.4, "account_growth": 3.0,
                   "land_and_expand": 2.5, "relationships": 1.6},
            skill={"account_growth": 0.2, "land_and_expand": 0.15, "new_logos": -0.2},
            customer_book=1.6,
        ),
        Profile(
            "social_seller",
            "Builds pipeline through social channels more than the phone.",
            hours={"social_selling": 5.0, "prospecting": 0.6, "insight": 1.5,
                   "relationships": 1.2},
            skill={"social_selling": 0.3, "insight": 0.1},
        ),
        Profile(
            "never_asks_referrals",
            "Does everything except ask happy customers for introductions.",
            hours={"referrals": 0.0},
            skill={"referrals": -0.3},
        ),
    )
}
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)


def assign_profiles(n: int, rng: np.random.Generator) -> list[str]:
    """Return a profile name for each of ``n`` reps, every profile present when n >= 7.

    The first seven slots hold one of each profile; after that every other slot is
    ``balanced`` and the rest cycle through the other profiles, so balanced stays the
    most common. The order is then shuffled so profiles do not follow rep ids.
    """
    others = [p for p in PROFILE_NAMES if p != "balanced"]
    names: list[str] = []
    for i in range(n):
        if i < len(PROFILE_NAMES):
            names.append(PROFILE_NAMES[i])
        elif (i - len(PROFILE_NAMES)) % 2 == 0:
            names.append("balanced")
        else:
            names.append(others[((i - len(PROFILE_NAMES)) // 2) % len(others)])
    order = rng.permutation(n)
    return [names[i] for i in order]


# The problems each profile plants, as findings would name them (practice, kind).
# ``primary``: what diagnosis must catch (recall counts these). ``consistent``:
# what the profile also explains, so a finding there is not a false positive:
# neglect where the hour multiplier is <= 0.4, overinvestment where it is >= 2.5,
# ineffectiveness where the skill offset is negative. Anything else found on the
# rep, and anything found on a balanced rep, contradicts the truth. See
# docs/findings.md for how recall and precision are computed from this.
PLANTED: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "balanced": {"primary": (), "consistent": ()},
    "avoids_prospecting": {
        "primary": (("prospecting", "neglected"),),
        "consistent": (("prospecting", "ineffective"),),
    },
    "qualifies_badly": {
        "primary": (("qualification", "neglected"),),
        "consistent": (
            ("customer_understanding", "neglected"),
            ("qualification", "ineffective"),
            ("customer_understanding", "ineffective"),
        ),
    },
    "closer_no_pipeline": {
        "primary": (("prospecting", "neglected"),),
        "consistent": (
            ("referrals", "neglected"),
            ("social_selling", "neglected"),
            ("marketing_alignment", "neglected"),
            ("closing", "overinvested"),
            ("prospecting", "ineffective"),
        ),
    },
    "account_farmer": {
        "primary": (("new_logos", "neglected"),),
        "consistent": (
            ("prospecting", "neglected"),
            ("social_selling", "neglected"),
            ("marketing_alignment", "neglected"),
            ("account_growth", "overinvested"),
            ("land_and_expand", "overinvested"),
            ("new_logos", "ineffective"),
        ),
    },
    "social_seller": {
        "primary": (("social_selling", "overinvested"),),
        "consistent": (),
    },
    "never_asks_referrals": {
        "primary": (("referrals", "neglected"),),
        "consistent": (("referrals", "ineffective"),),
    },
}
