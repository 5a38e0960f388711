# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: title
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: kpilib (Python 3.11)
#     language: python
#     name: kpilib
#   title: "\u0E23\u0E32\u0E22\u0E07\u0E32\u0E19\u0E1C\u0E25\u0E01\u0E32\u0E23\u0E1B\
#     \u0E23\u0E30\u0E40\u0E21\u0E34\u0E19\u0E15\u0E31\u0E27\u0E0A\u0E35\u0E49\u0E27\
#     \u0E31\u0E14 (KPI report)"
# ---

# %% tags=["parameters"]
# Parameterised report of one unit and one quarter (or month). Run it in JupyterLab with the
# defaults below (Prawet district, FY 2567 Q1, the sample data) or through Papermill /
# `kpi report` for any unit and quarter. The notebook only calls kpilib and displays what it
# returns.
unit: str = "1032"  # unit code (district geocode or office code, e.g. GOVSEC)
fy: int = 2567  # fiscal year, Buddhist Era
quarter: int = 1  # quarter 1-4 of the fiscal year
month: str = ""  # a monthly progress report: calendar month 1-12 or ต.ค.; quarter then unused
data_dir: str = ""  # data folder (raw/ and processed/); empty: the sample data, data/sample
validation_json: str = ""  # validation results of the batch run; empty: use or run validation
as_of: str = ""  # as-of date (ISO); empty: the quarter's last day
lang: str = "th"  # report language: th or en
numerals: str = "arabic"  # digits in the report: arabic or thai
result_json: str = ""  # where to write the report JSON (findings.csv beside it); empty: none

# %%
from IPython.display import HTML, display

from kpilib import report as blocks
from kpilib.assemble import build_document, check_parameters, write_report_json

params = check_parameters(
    unit=unit,
    fy=fy,
    quarter=quarter,
    data_dir=data_dir,
    validation_json=validation_json,
    as_of=as_of,
    lang=lang,
    numerals=numerals,
    result_json=result_json,
    month=month,
)
doc = build_document(params)
write_report_json(doc, params.result_json)
blocks.write_findings_beside(doc, params.result_json)
quarterly = not doc.period.monthly  # a monthly progress report shows the project form instead
first = blocks.summary_html(doc) if quarterly else blocks.monthly_html(doc)
display(HTML(blocks.header_html(doc) + first))

# %%
if quarterly:
    display(HTML(blocks.kpi_sections_html(doc)))

# %%
if quarterly:
    display(HTML(blocks.charts_html(doc)))

# %%
if quarterly:
    display(HTML(blocks.audit_html(doc)))

# %%
display(HTML(blocks.validation_html(doc)))

# %%
display(HTML(blocks.certification_html(doc)))

# %%
if quarterly:
    display(HTML(blocks.forms_html(doc)))

# %%
if quarterly:
    display(HTML(blocks.signoff_html(doc)))

# %%
display(HTML(blocks.appendix_html(doc)))
