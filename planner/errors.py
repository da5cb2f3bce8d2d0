"""The error families a user can meet, each with its exit code: bad input (2) and no certified answer (3).

Every message names the field, option or constraint family, its unit and the fix; the ``planner``
command prints the message without a traceback (``--debug`` shows it).
"""

from __future__ import annotations

EXIT_BAD_INPUT = 2
EXIT_NO_ANSWER = 3


class BadInputError(ValueError):
    """Input that cannot be used (a case field, a command-line option): fix the input. Exit code 2."""

    exit_code = EXIT_BAD_INPUT


class NoCertifiedAnswerError(RuntimeError):
    """The input is well formed but no certified answer exists or was found: an infeasible case (the
    message names the constraint family and by how much), or no feasible plan within the limits.
    Exit code 3."""

    exit_code = EXIT_NO_ANSWER


class InfeasibleCaseError(NoCertifiedAnswerError):
    """A case that is well formed but cannot be operated (a pre-solve bound shows it); the problems
    are listed one per line with their constraint family and units."""

    def __init__(self, problems: list[str], source: str | None = None):
        self.problems = list(problems)
        head = f"infeasible case{f' {source}' if source else ''}: {len(self.problems)} problem(s)"
        super().__init__(head + "\n  - " + "\n  - ".join(self.problems))


class WallClockLimit(BaseException):
    """The command's ``--time-limit`` passed (the hard stop at 110 % of it) before the work under way could
    finish: raised between solver calls, a BaseException so that no library's ``except Exception``
    swallows it. A job that already holds an answer (the main job's finished stages) reports that answer
    with a warning; otherwise it is no certified answer (exit code 3)."""

    exit_code = EXIT_NO_ANSWER
