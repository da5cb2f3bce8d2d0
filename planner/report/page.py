"""The run report: sections of text, tables and figures written as one HTML page and a Markdown file.

Each stage of the main job (scenarios, day-ahead plan, battery policy, sizing, decomposition) adds
its section; tables are also saved as CSV beside the report so nothing shown is lost.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[tuple[str, Path]] = field(default_factory=list)


class Report:
    """A report written into ``output_dir`` (figures in ``figures/``, tables in ``tables/``)."""

    def __init__(self, output_dir, title: str):
        self.output_dir = Path(output_dir)
        self.title = title
        self.sections: list[Section] = []
        (self.output_dir / "figures").mkdir(parents=True, exist_ok=True)
        (self.output_dir / "tables").mkdir(parents=True, exist_ok=True)

    def section(self, title: str) -> Section:
        section = Section(title)
        self.sections.append(section)
        return section

    def figure_path(self, name: str) -> Path:
        return self.output_dir / "figures" / f"{name}.png"

    def add_table(self, section: Section, caption: str, table: pd.DataFrame, name: str) -> Path:
        path = self.output_dir / "tables" / f"{name}.csv"
        table.to_csv(path, index=True)
        section.tables.append((caption, table))
        return path

    def write(self) -> Path:
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        md = [f"# {self.title}", "", f"_Written {stamp}._", ""]
        body = [f"<h1>{html.escape(self.title)}</h1><p><em>Written {stamp}.</em></p>"]
        body.append("<nav><ol>" + "".join(
            f"<li><a href='#s{i}'>{html.escape(s.title)}</a></li>" for i, s in enumerate(self.sections)
        ) + "</ol></nav>")
        for i, s in enumerate(self.sections):
            md += [f"## {s.title}", ""]
            body.append(f"<h2 id='s{i}'>{html.escape(s.title)}</h2>")
            for p in s.paragraphs:
                md += [p, ""]
                body.append(f"<p>{html.escape(p)}</p>")
            for caption, table in s.tables:
                md += [f"**{caption}**", "", table.to_markdown() if _has_tabulate() else f"```\n{table.to_string()}\n```", ""]
                body.append(f"<h3>{html.escape(caption)}</h3>")
                # wide tables (14-16 columns) scroll inside the page instead of overflowing it
                body.append("<div class='wide'>" + table.to_html(float_format=lambda v: f"{v:,.4g}", border=0,
                                                                 classes="t") + "</div>")
            for caption, path in s.figures:
                rel = Path(path).relative_to(self.output_dir)
                md += [f"![{caption}]({rel.as_posix()})", ""]
                data = base64.b64encode(Path(path).read_bytes()).decode()
                body.append(
                    f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(caption)}'>"
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
        style = (
            "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
            "table.t{border-collapse:collapse;font-size:0.9em;margin:0.5em 0}"
            "table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
            "img{max-width:100%}figcaption{color:#555;font-size:0.9em}div.wide{overflow-x:auto;max-width:100%}"
        )
        page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
        (self.output_dir / "report.md").write_text("\n".join(md), encoding="utf-8")
        path = self.output_dir / "report.html"
        path.write_text(page, encoding="utf-8")
        return path


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
