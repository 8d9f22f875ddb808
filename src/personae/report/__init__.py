"""The HTML report: every section of personae at a glance, in one self-contained file.

:mod:`~personae.app.report` reads each section's data (plain rows), :mod:`~personae.app.charts`
turns rows into an Altair chart and a one-line takeaway (the dashboard draws the same ones), and
:mod:`~personae.report.render` draws the charts to inline SVG and fills the Jinja2 template.
"""

from personae.app.charts import Figure
from personae.report.render import REPORT_FILE, write_report

__all__ = ["REPORT_FILE", "Figure", "write_report"]
