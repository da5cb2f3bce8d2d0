"""The report of a run: pages (HTML and Markdown, tables and figures) and the figures shared by stages."""

from planner.report.page import Report, Section

__all__ = ["Report", "Section"]
