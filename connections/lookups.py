"""``__in`` on integer fields that treats values beyond the database's range as matching
nothing, as Django already does for ``exact``, ``gt``, ``lt`` and the like.

Without it ``ids=99999999999999999999`` (a selection, a user picked in a form, an admin
action) ends in a 500 on SQLite (``OverflowError``) instead of "not found".
"""

from __future__ import annotations

from typing import Any

from django.db.models import IntegerField
from django.db.models.lookups import In


class IntegerFieldIn(In):
    lookup_name = "in"

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(
                self.lhs.output_field.get_internal_type()
            )
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)


def register() -> None:
    IntegerField.register_lookup(IntegerFieldIn)
