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
# A starting point for analysts: volumes by type and district, time to finish, and backlog
# ageing, built on the same kpilib calls as the reports. Change the parameters and re-run.

# %% tags=["parameters"]
fy: int = 2567  # fiscal year, Buddhist Era
data_dir: str = "../data/sample"  # data folder (raw/ and processed/)
as_of: str = ""  # as-of date (ISO); empty: the fiscal year's last day

# %%
import pandas as pd
from IPython.display import HTML, display

from kpilib import calendar as cal
from kpilib import charts, complaints
from kpilib.catalog import load_catalog
from kpilib.datasets import load_bundle

fy = cal.require_be_year(fy)
fy_start, fy_end = cal.fiscal_year_bounds(fy)
as_of_day = cal.parse_thai_date(as_of) if as_of else fy_end
bundle = load_bundle(data_dir)
tickets = bundle.table("tickets")
catalog = load_catalog()
names = {u.code: u.name_th for u in catalog.units}
print(f"ปีงบประมาณ {fy}: {len(tickets):,} เรื่อง, ข้อมูล ณ {cal.format_thai_date(as_of_day)}")

# %% [markdown]
# ## เรื่องร้องเรียนแยกตามประเภท (Volumes by type)

# %%
by_type = complaints.complaints_by_type(tickets, start=fy_start, end=as_of_day)
display(by_type.head(24))
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
display(ranking)

# %% [markdown]
# ## ระยะเวลาดำเนินการจนเสร็จสิ้น (Time to finish)

# %%
ttf = complaints.time_to_finish(tickets, start=fy_start, end=as_of_day)
display(ttf["days"].describe(percentiles=[0.5, 0.75, 0.9, 0.95]).to_frame("วัน (days)"))
display(HTML(charts.figure_html(charts.time_to_finish(ttf["days"]))))

# %% [markdown]
# ## อายุเรื่องค้างดำเนินการ (Backlog ageing, city-wide)

# %%
ageing = complaints.backlog_ageing(tickets, as_of=as_of_day)
display(ageing)
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
display(by_district.sort_values(by_district.columns[-1], ascending=False))
