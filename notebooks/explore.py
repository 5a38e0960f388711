# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: kpilib (Python 3.11)
#     language: python
#     name: kpilib
# ---

# %% [markdown]
# # สำรวจข้อมูลเรื่องร้องเรียนทั้งกรุงเทพมหานคร (City-wide complaint patterns)
#
# A starting point for analysts: every unit's scorecard, the ranking per KPI, the change between
# quarters, complaint volumes by type and district, time to finish and backlog ageing, built on
# the same kpilib calls as the reports. Change the parameters and re-run.

# %% tags=["parameters"]
fy: int = 2567  # fiscal year, Buddhist Era
data_dir: str = ""  # data folder (raw/ and processed/); empty: the sample data, data/sample
quarter: int = 2  # the quarter of the scorecards (compared with the quarter before it)
as_of: str = ""  # as-of date (ISO); empty: the fiscal year's last day

# %%
import pandas as pd
from IPython.display import HTML, display

from kpilib import calendar as cal
from kpilib import charts, complaints, explore, report
from kpilib.catalog import load_catalog
from kpilib.datasets import load_bundle
from kpilib.paths import sample_data_dir

fy = cal.require_be_year(fy)
quarter = cal.require_quarter(quarter)
fy_start, fy_end = cal.fiscal_year_bounds(fy)
as_of_day = cal.parse_thai_date(as_of) if as_of else fy_end
bundle = load_bundle(data_dir or sample_data_dir())
tickets = bundle.table("tickets")
catalog = load_catalog()
names = {u.code: u.name_th for u in catalog.units}
display(HTML(report.notebook_style_html()))  # the embedded font and the report's table styles
print(f"ปีงบประมาณ {fy}: {len(tickets):,} เรื่อง, ข้อมูล ณ {cal.format_thai_date(as_of_day)}")

# %% [markdown]
# ## คะแนนรวมและอันดับของทุกหน่วยงาน (Every unit's total and rank)

# %%
scorecards = explore.all_scorecards(bundle, fy=fy, quarter=quarter)
display(explore.totals_frame(scorecards))
scorecards[0]  # one unit's scorecard as JupyterLab shows it (Scorecard._repr_html_)

# %% [markdown]
# ## ผลงานและอันดับรายตัวชี้วัด (Ranking per KPI)

# %%
display(explore.ranking_per_kpi(scorecards))

# %% [markdown]
# ## การเปลี่ยนแปลงจากไตรมาสก่อน (Change since the previous quarter)

# %%
if quarter > 1:
    earlier = explore.all_scorecards(bundle, fy=fy, quarter=quarter - 1)
    display(explore.quarter_changes(earlier, scorecards))
else:
    print("ไตรมาสที่ 1: ไม่มีไตรมาสก่อนหน้าในปีงบประมาณเดียวกัน")

# %% [markdown]
# ## เรื่องร้องเรียนแยกตามประเภท (Volumes by type)

# %%
by_type = complaints.complaints_by_type(tickets, start=fy_start, end=as_of_day)
display(explore.for_people(by_type.head(24)))
display(
    HTML(
        charts.figure_html(
            charts.complaints_by_type(by_type.set_index("type_tag")["received"], top=24)
        )
    )
)

# %% [markdown]
# ## เรื่องร้องเรียนแยกตามสำนักงานเขต (Volumes and resolution by district)

# %%
ranking = complaints.traffy_ranking(
    tickets, fy=fy, quarter=cal.quarter_of(as_of_day), units=catalog.district_codes()
)
ranking.insert(1, "district", ranking["unit_code"].map(names))
display(explore.for_people(ranking))

# %% [markdown]
# ## ระยะเวลาดำเนินการจนเสร็จสิ้น (Time to finish)

# %%
ttf = explore.finish_times(tickets, start=fy_start, end=as_of_day)
print(ttf.note_th)
display(explore.describe_days(ttf.days["days"]))
display(HTML(charts.figure_html(charts.time_to_finish(ttf.days["days"]))))

# %% [markdown]
# ## อายุเรื่องค้างดำเนินการ (Backlog ageing, city-wide)

# %%
ageing = complaints.backlog_ageing(tickets, as_of=as_of_day)
display(explore.for_people(ageing))
display(HTML(charts.figure_html(charts.backlog_ageing(ageing.set_index("bucket")["open"]))))

# %% [markdown]
# ## ค้างดำเนินการตามเขต (Open tickets by district and age)

# %%
by_district = pd.concat(
    {
        names.get(code, code): complaints.backlog_ageing(
            tickets, as_of=as_of_day, unit_code=code
        ).set_index("bucket")["open"]
        for code in sorted(tickets["unit_code"].unique())
    },
    axis=1,
).T
display(explore.for_people(by_district.sort_values(by_district.columns[-1], ascending=False)))
