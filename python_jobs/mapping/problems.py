"""What `churn check` reports: one Problem per finding (error, warning or info) and the result they add up to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from python_jobs.mapping.spec import Mapping


@dataclass(frozen=True)
class Problem:
    level: str  # error (the build would fail or be wrong) | warning (rows will be lost or ignored) | info
    message: str
    fix: str = ""
    table: str | None = None
    column: str | None = None
    file: str | None = None

    def format(self) -> str:
        where = ".".join(p for p in (self.table, self.column) if p)
        head = f"{self.level.upper():<7} " + (f"{where}: " if where else "") + self.message
        if self.file:
            head += f" [{self.file}]"
        return head + (f"\n        -> {self.fix}" if self.fix else "")


@dataclass
class CheckResult:
    mapping: Mapping
    raw_dir: Path  # contract-shaped Parquet written for staging
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def format(self) -> str:
        counts = {lvl: sum(p.level == lvl for p in self.problems) for lvl in ("error", "warning")}
        lines = [
            p.format()
            for p in sorted(self.problems, key=lambda p: ("error", "warning", "info").index(p.level))
        ]
        verdict = (
            "fix the errors above before `churn build`." if counts["error"] else "ready for `churn build`."
        )
        lines.append(f"{counts['error']} error(s), {counts['warning']} warning(s): {verdict}")
        return "\n".join(lines)
