"""A yes/no answer that may be unknown."""

from __future__ import annotations

import enum


class Tri(enum.Enum):
    """A yes/no answer that may be unknown; a rule decides what UNKNOWN means for it."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: bool | None) -> Tri:
        """True/False/None -> YES/NO/UNKNOWN."""
        return cls.UNKNOWN if value is None else cls.YES if value else cls.NO

    def certain(self) -> bool | None:
        """YES/NO/UNKNOWN -> True/False/None."""
        return None if self is Tri.UNKNOWN else self is Tri.YES
