"""What a run found: headline rows, flat figures, report sections, charts, failures."""

import json
import math
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Headline:
    """One row of the report's first table: a figure beside its same-run baseline."""

    what: str
    value: float | None
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


@dataclass
class Results:
    """Collected by every part of a run, written once at the end into `folder`."""

    folder: Path
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    figures: dict[str, float] = field(default_factory=dict)
    headlines: list[Headline] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)
    failures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def figure(self, name: str, value: float) -> float:
        """Record one figure of figures.json (documented in bench/README.md)."""
        self.figures[name] = value
        return value

    def headline(self, row: Headline) -> None:
        self.headlines.append(row)

    def section(self, title: str, markdown: str) -> None:
        self.sections.append((title, markdown))

    def chart(self, file_name: str, caption: str) -> None:
        self.charts.append((file_name, caption))


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for a table: whole numbers and large ones without decimals, small ones to
    three significant digits, '—' when missing or NaN."""
    if value is None or math.isnan(value):
        return "—"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}" if abs(value) >= 1 else f"{value:.3g}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _headline_table(results: Results) -> str:
    rows = [
        [
            h.what,
            f"{fmt(h.value)} {h.unit}",
            f"{h.baseline_name}: {fmt(h.baseline)}" if h.baseline is not None else "—",
            f"{h.ratio:.2f}" if h.ratio is not None else "—",
            h.target,
        ]
        for h in results.headlines
    ]
    return table(["figure", "value", "baseline (same run)", "ratio", "target"], rows)


def _comparison(results: Results, earlier: Path) -> str:
    before = json.loads((earlier / "figures.json").read_text())
    rows = [
        [f"`{name}`", fmt(before[name]), fmt(value), f"{value / before[name]:.2f}"]
        for name, value in results.figures.items()
        if isinstance(before.get(name), int | float) and before[name]
    ]
    return f"Earlier run: `{earlier}`\n\n" + table(["figure", "earlier", "this run", "ratio"], rows)


def write(results: Results, compare: Path | None) -> Path:
    """report.md and figures.json into the run's folder (the charts are already there)."""
    folder = results.folder
    finished = datetime.now(UTC)
    minutes = (finished - results.started).total_seconds() / 60
    parts = [
        f"# Benchmark report, {results.started:%Y-%m-%d %H:%M} UTC",
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; the run took {minutes:.1f} minutes.",
        "## Headline figures",
        _headline_table(results),
    ]
    if results.failures:
        parts.append("## Parts that failed")
        parts += [f"- **{name}**: `{error}`" for name, error in results.failures.items()]
    if results.notes:
        parts.append("## Notes")
        parts += [f"- {note}" for note in results.notes]
    for title, body in results.sections:
        parts += [f"## {title}", body]
    if results.charts:
        parts.append("## Charts")
        parts += [f"![{caption}]({name})\n\n*{caption}*" for name, caption in results.charts]
    if compare is not None:
        parts += ["## Against an earlier run", _comparison(results, compare)]
    report = folder / "report.md"
    report.write_text("\n\n".join(parts) + "\n")
    clean = {k: v for k, v in results.figures.items() if not math.isnan(v)}
    (folder / "figures.json").write_text(json.dumps(clean, indent=2, sort_keys=True) + "\n")
    return report
