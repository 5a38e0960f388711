"""The people's part of the BMA forms: typed entries, the Excel round trip, the data folder.

- :mod:`kpilib.forms.models`: what people enter (:class:`KpiEntry`, :class:`Project`,
  :class:`UnitForms`, :class:`FormFinding`), models only;
- :mod:`kpilib.forms.layout`: the workbook's sheets and columns, declared once, and where
  the data folder keeps the forms;
- :mod:`kpilib.forms.workbook`: ``kpi forms`` writes one workbook per unit and quarter;
- :mod:`kpilib.forms.reader`: filled workbooks are read back and checked;
- :mod:`kpilib.forms.sample`: filled-in forms for the sample data set;
- :mod:`kpilib.forms.view`: what the report's HTML blocks show.

See ``docs/forms.md``.
"""

from kpilib.forms.models import (
    NOT_REPORTED_TH,
    Evidence,
    FormFile,
    FormFinding,
    KpiEntry,
    MonthlyReport,
    Person,
    Project,
    UnitForms,
)

__all__ = [
    "NOT_REPORTED_TH",
    "Evidence",
    "FormFile",
    "FormFinding",
    "KpiEntry",
    "MonthlyReport",
    "Person",
    "Project",
    "UnitForms",
]
