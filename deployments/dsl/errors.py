"""Problems found in a project's infrastructure definition.

Every problem names the file (relative to the project root), a 1-based line and
column, and a message saying what was found and what is allowed, so the CLI can
print `file:line:col: message` and the web pages can list them the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class DslProblem:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class DslError(Exception):
    """One or more problems; raised only after everything that could be checked was checked."""

    def __init__(self, problems: Iterable[DslProblem]) -> None:
        self.problems: list[DslProblem] = sorted(set(problems))
        super().__init__("\n".join(str(problem) for problem in self.problems))


def did_you_mean(found: str, allowed: Iterable[str]) -> str:
    """A ' did you mean ...?' hint for a near miss, or '' when nothing is close."""
    matches = difflib.get_close_matches(found, list(allowed), n=1, cutoff=0.6)
    return f" did you mean '{matches[0]}'?" if matches else ""


def quoted_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)
