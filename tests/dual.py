"""Forward-mode dual numbers in plain Python: exact gradients of the reference agents.

A :class:`Dual` carries a value and its derivatives with respect to n inputs. The
plain-Python references (``reference.py``, ``reference_one_choice.py``) are
written with ``+ - * /``, :func:`exp`, :func:`log`, ``abs``, ``max`` and
comparisons, so run on Duals they give the gradient of their log-likelihood by
the chain rule, with no finite-difference error and sharing no code with the
kernels' hand-written sensitivities. Comparisons (and so ``max`` and ``abs``)
act on the values: at a kink the derivative is that of the branch taken, as in
the kernels (``max`` returns its first argument on a tie, ``abs`` takes +1 at 0).
"""

from __future__ import annotations

import math


class Dual:
    """A value with its gradient (a list of floats, one per input)."""

    __slots__ = ("d", "v")

    def __init__(self, v: float, d: list[float]):
        self.v = float(v)
        self.d = d

    @staticmethod
    def variables(values) -> list[Dual]:
        """One Dual per value, each with the unit gradient of its own input."""
        n = len(values)
        return [Dual(v, [1.0 if j == i else 0.0 for j in range(n)]) for i, v in enumerate(values)]

    def _lift(self, other) -> Dual:
        return other if isinstance(other, Dual) else Dual(other, [0.0] * len(self.d))

    def __add__(self, other):
        o = self._lift(other)
        return Dual(self.v + o.v, [a + b for a, b in zip(self.d, o.d, strict=True)])

    __radd__ = __add__

    def __sub__(self, other):
        o = self._lift(other)
        return Dual(self.v - o.v, [a - b for a, b in zip(self.d, o.d, strict=True)])

    def __rsub__(self, other):
        return self._lift(other) - self

    def __neg__(self):
        return Dual(-self.v, [-a for a in self.d])

    def __mul__(self, other):
        o = self._lift(other)
        return Dual(self.v * o.v, [a * o.v + self.v * b for a, b in zip(self.d, o.d, strict=True)])

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._lift(other)
        q = self.v / o.v
        return Dual(q, [(a - q * b) / o.v for a, b in zip(self.d, o.d, strict=True)])

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __abs__(self):
        return self if self.v >= 0.0 else -self

    def __lt__(self, other):
        return self.v < value(other)

    def __le__(self, other):
        return self.v <= value(other)

    def __gt__(self, other):
        return self.v > value(other)

    def __ge__(self, other):
        return self.v >= value(other)

    def __float__(self):
        return self.v


def value(x) -> float:
    """The value of a Dual or a number."""
    return x.v if isinstance(x, Dual) else float(x)


def gradient(x, n: int) -> list[float]:
    """The gradient of a Dual (zeros for a plain number)."""
    return list(x.d) if isinstance(x, Dual) else [0.0] * n


def exp(x):
    if isinstance(x, Dual):
        e = math.exp(x.v)
        return Dual(e, [e * a for a in x.d])
    return math.exp(x)


def log(x):
    if isinstance(x, Dual):
        return Dual(math.log(x.v), [a / x.v for a in x.d])
    return math.log(x)
