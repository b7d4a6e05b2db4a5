"""Deal amounts: lognormal distributions per stream (created deals) and segment (won deals).

The forecast needs only the first two moments of an amount, ``E[a]`` and
``E[a^2]``, because bookings and pipeline are compound-Poisson sums; lognormals
fitted on log amounts (mean and variance per group, shrunk towards the pooled
values with ten deals' weight) give both in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["LognormalAmounts"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LognormalAmounts:
    """Lognormal amounts per group: ``log_mean`` and ``log_var`` arrays of equal shape."""

    log_mean: FloatArray
    log_var: FloatArray

    @classmethod
    def from_moments(cls, moments: FloatArray) -> LognormalAmounts:
        """Build from an ``(n, 2)`` array of log-amount mean and variance."""
        return cls(np.asarray(moments[:, 0], dtype=np.float64),
                   np.maximum(np.asarray(moments[:, 1], dtype=np.float64), 1e-6))

    @property
    def mean(self) -> FloatArray:
        """Return ``E[a]`` per group."""
        return np.asarray(np.exp(self.log_mean + self.log_var / 2))

    @property
    def second_moment(self) -> FloatArray:
        """Return ``E[a^2]`` per group."""
        return np.asarray(np.exp(2 * self.log_mean + 2 * self.log_var))

    def sample(self, rng: np.random.Generator, group: npt.NDArray[np.int64]) -> FloatArray:
        """Draw one amount for each entry of ``group``."""
        return np.asarray(rng.lognormal(self.log_mean[group], np.sqrt(self.log_var[group])))
