"""The KPI catalogue: ``params/`` loaded into frozen, checked models.

Layout of a params folder::

    units.yaml          units: the 50 district offices and the offices named in the seeds
    kpis/*.yaml         KPI definitions (one file per source document); top-level key ``kpis``
    plans/*.yaml        which KPIs apply to which units in a fiscal year

Everything is read with ``yaml.safe_load`` into pydantic models with ``extra="forbid"``:
an unknown key, a missing threshold, thresholds out of order, weights that do not add up to
a declared total, an unknown formula kind or input, or a plan naming an unknown KPI or unit
raise one :class:`~kpilib.errors.ConfigError` naming the file, the KPI id and the field.

See ``docs/catalog.md`` for how to add a KPI with data only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kpilib import formulas as _formulas
from kpilib.errors import ConfigError
from kpilib.measures import is_known_measure
from kpilib.paths import params_dir as _default_params_dir
from kpilib.paths import safe_component
from kpilib.rubric import Rubric, check_rubric

COMPONENTS: dict[str, tuple[str, str]] = {
    "1.1": (
        "ประสิทธิภาพในการดำเนินงานตามภารกิจหลักยุทธศาสตร์กรุงเทพมหานคร (Function Base)",
        "Function Base",
    ),
    "1.2": (
        "ประสิทธิภาพของการขับเคลื่อนการบูรณาการการดำเนินงานร่วมกันระหว่างหน่วยงาน (Joint KPIs)",
        "Joint KPIs",
    ),
    "1.3": (
        "ประสิทธิภาพของการดำเนินภารกิจตามนโยบายผู้บริหารหรือภารกิจพิเศษ (Agenda Base)",
        "Agenda Base",
    ),
}

INDICATOR_TYPES_TH: dict[str, str] = {
    "strategic": "ตัวชี้วัดเชิงยุทธศาสตร์",
    "routine": "ตัวชี้วัดงานประจำ",
    "joint": "ตัวชี้วัดร่วม (Joint KPI)",
    "negotiated": "ตัวชี้วัดเจรจาตกลง",
    "project": "โครงการ",
}

RESULT_LEVELS_TH: dict[str, str] = {"output": "ผลผลิต (Output)", "outcome": "ผลลัพธ์ (Outcome)"}

_FROZEN = ConfigDict(extra="forbid", frozen=True)

ChartKind = Literal["by_quarter", "district_ranking"]
"""Charts a KPI asks for: its result per quarter against target and plan; its position among
the 50 districts (the Traffy Fondue resolution share at the quarter's end)."""


# --------------------------------------------------------------------------- models


class Unit(BaseModel):
    """An evaluated unit: a district office or an office.

    Attributes:
        code: Stable code (district geocode ``"1032"`` or an office code such as ``GOVSEC``).
        name_th: Thai name for display (districts carry the "เขต" prefix).
        name_en: English name.
        kind: ``district`` or ``office``.
        abbreviation_th: Official Thai abbreviation, if any (สผว.กทม.).
        aliases_th: Other spellings met in the seeds.
        note: Remarks (e.g. a spelling discrepancy between seeds).
    """

    model_config = _FROZEN

    code: str
    name_th: str
    name_en: str
    kind: Literal["district", "office"]
    abbreviation_th: str | None = None
    aliases_th: tuple[str, ...] = ()
    note: str | None = None


class SourceRef(BaseModel):
    """Where a KPI is transcribed from: the seed document and its number in that document."""

    model_config = _FROZEN

    document: str
    number: str | None = None
    page_title_th: str | None = None


class StrategyLink(BaseModel):
    """Link to the BMA strategy (20-year plan: ด้าน / มิติ / เป้าหมาย; FY 2567 plan: ยุทธศาสตร์)."""

    model_config = _FROZEN

    side_th: str | None = None  # ด้าน
    dimension_th: str | None = None  # มิติ
    goal_th: str | None = None  # เป้าหมาย
    purpose_th: str | None = None  # เป้าประสงค์
    policy_th: str | None = None  # สอดคล้องกับนโยบายผู้ว่าราชการกรุงเทพมหานคร
    strategy_th: str | None = None  # ยุทธศาสตร์ที่
    sub_strategy_th: str | None = None  # ยุทธศาสตร์ย่อยที่
    objective_th: str | None = None  # วัตถุประสงค์หลัก (Objective)
    key_result_th: str | None = None  # ตัวชี้วัดผลหลัก (Key Result)
    indicator_th: str | None = None  # ตัวชี้วัด (ที่โครงการสนับสนุน)


class Baseline(BaseModel):
    """One prior-year result (``value`` None when the table prints "-")."""

    model_config = _FROZEN

    fiscal_year: int
    value: float | None = None
    text_th: str | None = None


class Target(BaseModel):
    """The KPI's target: ``value`` reached when ``value_of_kpi op value`` holds."""

    model_config = _FROZEN

    value: float
    op: Literal[">=", ">"] = ">="
    text_th: str

    def met(self, value: float | None) -> bool | None:
        """True/False whether a value meets the target; None without a value."""
        if value is None:
            return None
        return value >= self.value if self.op == ">=" else value > self.value


class InputSpec(BaseModel):
    """Where a formula input comes from: a named measure, the milestone plan, or a constant.

    Attributes:
        measure: A measure name (``kpilib.measures``).
        label_th: What the input counts, in Thai words, for the formula text (e.g.
            "เรื่องที่แก้ไขแล้ว"); default: the formula kind's generic words.
        args: Keyword arguments passed to the measure.
        scope: ``unit`` (the unit being scored) or ``all_districts`` (sum over the 50 districts).
        plan: True: the KPI's milestone plan for the quarter.
        const: A constant.
    """

    model_config = _FROZEN

    measure: str | None = None
    label_th: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    scope: Literal["unit", "all_districts"] = "unit"
    plan: bool = False
    const: float | None = None

    @model_validator(mode="after")
    def _one_source(self) -> InputSpec:
        n = sum([self.measure is not None, self.plan, self.const is not None])
        if n != 1:
            raise ValueError("give exactly one of measure, plan: true, const")
        return self


class FormulaPart(BaseModel):
    """A part of a composite KPI (e.g. project 50340000-3453 Part 1, 20 points)."""

    model_config = _FROZEN

    id: str
    name_th: str
    name_en: str | None = None
    weight: float = Field(ge=0)
    target: float | None = None
    target_text_th: str | None = None
    full_marks: float | None = Field(default=None, gt=0)
    definition_th: str | None = None
    formula: FormulaDef


class FormulaDef(BaseModel):
    """A formula: a registered kind, its inputs and parameters (or parts, for composites)."""

    model_config = _FROZEN

    kind: str
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    parts: tuple[FormulaPart, ...] = ()
    total_weight: float | None = None


FormulaPart.model_rebuild()


class ComputedCheck(BaseModel):
    """A requirement checked from data: numerator × 100 ÷ denominator reaches ``min_percent``."""

    model_config = _FROZEN

    numerator: InputSpec
    denominator: InputSpec
    min_percent: float
    when_th: str = ""


class KpiFigure(BaseModel):
    """A figure shown beside a KPI's value (e.g. each step of KPI 3.1): a count or a share."""

    model_config = _FROZEN

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_th: str
    numerator: InputSpec
    denominator: InputSpec | None = None


class Requirement(BaseModel):
    """A non-numeric requirement the seed sets for a KPI (a report, a visit, a publication).

    Met or not is read from the ``conditions`` table (a row per unit, KPI, quarter and
    requirement ``name``, with its evidence). A requirement named by a rubric level also caps
    the level (``rubric.levels[].conditions``); the others are reported, not scored.

    Attributes:
        name: Identifier used in the ``conditions`` table.
        text_th: The requirement as the seed words it.
        evidence_th: The evidence that shows it (what to submit).
        computed: Checked from data instead of read from the ``conditions`` table.
    """

    model_config = _FROZEN

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text_th: str
    evidence_th: str | None = None
    computed: ComputedCheck | None = None


class PublishedResult(BaseModel):
    """A figure printed in the seed for this KPI (kept for reference and tests)."""

    model_config = _FROZEN

    fiscal_year: int
    quarter: int | None = Field(default=None, ge=1, le=4)
    result: float | None = None
    evaluation: float | None = None
    text_th: str | None = None


class Kpi(BaseModel):
    """One KPI definition, as transcribed from a seed document.

    See ``docs/catalog.md`` for every field.
    """

    model_config = _FROZEN

    id: str
    code: str | None = None
    aliases: tuple[str, ...] = ()
    source: SourceRef
    name_th: str
    short_name_th: str | None = Field(default=None, max_length=40)
    name_en: str
    fiscal_year: int
    owners: tuple[str, ...] = ()
    owner_kind: Literal["district", "office"] | None = None
    indicator_type: Literal["strategic", "routine", "joint", "negotiated", "project"]
    result_level: Literal["output", "outcome"] | None = None
    component: Literal["1.1", "1.2", "1.3"]
    strategy: StrategyLink = Field(default_factory=StrategyLink)
    baseline: tuple[Baseline, ...] = ()
    target: Target
    weight: float = Field(ge=0)
    unit_of_measure: Literal["percent", "count", "score"]
    unit_th: str
    definition_th: str
    formula_th: str
    formula: FormulaDef
    period_th: str = "สะสมตั้งแต่ต้นปีงบประมาณถึงวันสิ้นไตรมาส"
    data_source_th: str | None = None
    evidence_th: tuple[str, ...] = ()
    milestones: dict[int, float] | None = None
    published: tuple[PublishedResult, ...] = ()
    rubric: Rubric
    requirements: tuple[Requirement, ...] = ()
    figures: tuple[KpiFigure, ...] = ()
    charts: tuple[ChartKind, ...] = ("by_quarter",)
    interpretations_th: tuple[str, ...] = ()
    assumptions_th: tuple[str, ...] = ()
    note: str | None = None

    @property
    def data_ids(self) -> tuple[str, ...]:
        """Every identifier input data may use for this KPI: id, official code, aliases."""
        return tuple(x for x in (self.id, self.code, *self.aliases) if x)

    @property
    def component_name_th(self) -> str:
        """The component's Thai name."""
        return COMPONENTS[self.component][0]

    def measures_used(self) -> tuple[InputSpec, ...]:
        """Every measure input: the formula's (parts included), computed requirements', figures'."""
        out: list[InputSpec] = []

        def walk(f: FormulaDef) -> None:
            out.extend(s for s in f.inputs.values() if s.measure)
            for p in f.parts:
                walk(p.formula)

        walk(self.formula)
        for r in self.requirements:
            if r.computed is not None:
                out.extend(s for s in (r.computed.numerator, r.computed.denominator) if s.measure)
        for fig in self.figures:
            out.extend(s for s in (fig.numerator, fig.denominator) if s is not None and s.measure)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (one object per KPI in ``kpi catalog --json``)."""
        d = self.model_dump(mode="json")
        d["component_name_th"] = self.component_name_th
        return d


class PlanAssignment(BaseModel):
    """KPIs assigned to a set of units in a plan."""

    model_config = _FROZEN

    units: tuple[str, ...] = ()
    unit_kind: Literal["district", "office"] | None = None
    kpis: tuple[str, ...]
    total_weight: float | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _who(self) -> PlanAssignment:
        if not self.units and self.unit_kind is None:
            raise ValueError("give units or unit_kind")
        return self


class Plan(BaseModel):
    """Which KPIs apply to which units in one fiscal year."""

    model_config = _FROZEN

    fiscal_year: int
    note: str | None = None
    assignments: tuple[PlanAssignment, ...]


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class Catalog:
    """The loaded catalogue.

    Attributes:
        path: The params folder it was read from.
        kpis: Every KPI, in file order.
        units: Every unit.
        plans: Plans by fiscal year.
        kpi_files: The file each KPI came from (by id).
    """

    path: Path
    kpis: tuple[Kpi, ...]
    units: tuple[Unit, ...]
    plans: Mapping[int, Plan]
    kpi_files: Mapping[str, Path]

    def kpi(self, id_or_code: str) -> Kpi:
        """Return a KPI by id or official code.

        Raises:
            ConfigError: If none matches (the message lists the ids).
        """
        for k in self.kpis:
            if id_or_code in k.data_ids:
                return k
        raise ConfigError(
            f"unknown KPI {id_or_code!r}; known ids: {', '.join(k.id for k in self.kpis)}",
            file=self.path,
        )

    def unit(self, code: str) -> Unit:
        """Return a unit by code.

        Raises:
            ConfigError: If no unit has that code.
        """
        for u in self.units:
            if u.code == code:
                return u
        raise ConfigError(f"unknown unit {code!r}", file=self.path / "units.yaml")

    def find(self, *, document: str, number: str, owner: str | None = None) -> Kpi:
        """Return the KPI transcribed from seed ``document`` (prefix) with number ``number``.

        Args:
            document: The seed document name or its prefix (``"003"``).
            number: The KPI's number in that document (``"4"``).
            owner: Only a KPI owned by this unit code (seed 003 KPI 4 has a GOVSEC and a
                district version); default: the first in catalogue order.

        Raises:
            ConfigError: If none matches.
        """
        for k in self.kpis:
            if k.source.document.startswith(document) and k.source.number == number:
                if owner is None or owner in k.owners:
                    return k
        raise ConfigError(f"no KPI from document {document!r} numbered {number!r}")

    def _assignments(self, unit: Unit, fy: int) -> list[PlanAssignment]:
        plan = self.plans.get(fy)
        if plan is None:
            return []
        return [
            a
            for a in plan.assignments
            if unit.code in a.units or (a.unit_kind is not None and a.unit_kind == unit.kind)
        ]

    def kpis_for_unit(self, unit_code: str, fy: int) -> tuple[Kpi, ...]:
        """Return the KPIs the fiscal year's plan assigns to a unit (plan order, no repeats)."""
        unit = self.unit(unit_code)
        seen: list[str] = []
        for a in self._assignments(unit, fy):
            seen.extend(k for k in a.kpis if k not in seen)
        return tuple(self.kpi(k) for k in seen)

    def units_with_kpis(self, fy: int) -> tuple[Unit, ...]:
        """Return the units that have at least one KPI in the fiscal year's plan."""
        return tuple(u for u in self.units if self._assignments(u, fy))

    def kpis_for_year(self, fy: int) -> tuple[Kpi, ...]:
        """Return the KPIs named by the fiscal year's plan (catalogue order)."""
        plan = self.plans.get(fy)
        if plan is None:
            return ()
        ids = {k for a in plan.assignments for k in a.kpis}
        return tuple(k for k in self.kpis if k.id in ids)

    def district_codes(self) -> tuple[str, ...]:
        """Codes of the district offices."""
        return tuple(u.code for u in self.units if u.kind == "district")


# --------------------------------------------------------------------------- loading

_CACHE: dict[tuple[Any, ...], Catalog] = {}
_LOCK = threading.Lock()


def load_catalog(params_dir: str | Path | None = None) -> Catalog:
    """Load and check the catalogue in ``params_dir`` (default ``params/``).

    The result is cached per folder and the files' modification times.

    Raises:
        ConfigError: For any problem, naming the file, KPI id and field.
    """
    root = Path(params_dir) if params_dir is not None else _default_params_dir()
    root = root.resolve()
    if not root.is_dir():
        raise ConfigError("params folder not found", file=root)
    files = _catalog_files(root)
    key = (str(root), tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    cat = _load(root)
    with _LOCK:
        _CACHE[key] = cat
    return cat


def _catalog_files(root: Path) -> list[Path]:
    out = [root / "units.yaml"] if (root / "units.yaml").is_file() else []
    for sub in ("kpis", "plans"):
        d = root / sub
        if d.is_dir():
            out.extend(sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml")))
    return out


def _read_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            # the safe loader, in C when PyYAML has libyaml (8x faster than pure Python)
            return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(
            f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", file=path
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=path) from None


def _loc_to_field(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _validation_error(
    exc: ValidationError, *, file: Path, prefix: str, kpi: str | None
) -> ConfigError:
    err = exc.errors()[0]
    loc = list(err["loc"])
    field = _loc_to_field(loc)
    if err["type"] == "extra_forbidden":
        msg = f"unknown key {loc[-1]!r}"
    elif err["type"] == "missing":
        msg = f"missing required field {loc[-1]!r}"
    else:
        msg = err["msg"].removeprefix("Value error, ")
    full = f"{prefix}.{field}" if prefix and field else (prefix or field)
    return ConfigError(msg, file=file, kpi=kpi, field=full or None)


def _parse(model: type[BaseModel], data: Any, *, file: Path, prefix: str, kpi: str | None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, file=file, prefix=prefix, kpi=kpi) from None


def _load_units(root: Path) -> tuple[Unit, ...]:
    path = root / "units.yaml"
    if not path.is_file():
        raise ConfigError("units file is missing", file=path)
    data = _read_yaml(path)
    if not isinstance(data, dict) or set(data) != {"units"} or not isinstance(data["units"], list):
        raise ConfigError("expected one top-level key 'units' holding a list", file=path)
    units: list[Unit] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["units"]):
        u = _parse(Unit, raw, file=path, prefix=f"units[{i}]", kpi=None)
        try:
            safe_component(u.code, what="unit code")
        except Exception as exc:
            raise ConfigError(str(exc), file=path, field=f"units[{i}].code") from None
        if u.code in seen:
            raise ConfigError(
                f"unit code {u.code!r} appears twice", file=path, field=f"units[{i}].code"
            )
        seen.add(u.code)
        units.append(u)
    return tuple(units)


def _check_formula(f: FormulaDef, *, file: Path, kpi: str, field: str) -> None:
    if f.kind not in _formulas.formula_names():
        raise ConfigError(
            f"unknown formula kind {f.kind!r}; known kinds: {', '.join(_formulas.formula_names())}",
            file=file,
            kpi=kpi,
            field=f"{field}.kind",
        )
    spec = _formulas.get_formula(f.kind)
    if f.kind == "composite":
        if not f.parts:
            raise ConfigError("a composite needs parts", file=file, kpi=kpi, field=f"{field}.parts")
        ids = [p.id for p in f.parts]
        if len(set(ids)) != len(ids):
            raise ConfigError("part ids must be unique", file=file, kpi=kpi, field=f"{field}.parts")
        total = sum(p.weight for p in f.parts)
        if f.total_weight is not None and abs(total - f.total_weight) > 1e-9:
            raise ConfigError(
                f"part weights add up to {total:g}, not the declared total_weight {f.total_weight:g}",
                file=file,
                kpi=kpi,
                field=f"{field}.parts",
            )
        for i, p in enumerate(f.parts):
            _check_formula(p.formula, file=file, kpi=kpi, field=f"{field}.parts[{i}].formula")
        return
    if f.parts:
        raise ConfigError(
            f"only a composite has parts (kind is {f.kind!r})",
            file=file,
            kpi=kpi,
            field=f"{field}.parts",
        )
    allowed = set(spec.inputs) | set(spec.optional_inputs)
    for name in f.inputs:
        if name not in allowed:
            raise ConfigError(
                f"formula {f.kind} has no input {name!r} (inputs: {', '.join(spec.inputs)})",
                file=file,
                kpi=kpi,
                field=f"{field}.inputs.{name}",
            )
    for name in spec.inputs:
        if name not in f.inputs:
            raise ConfigError(
                f"formula {f.kind} needs input {name!r}",
                file=file,
                kpi=kpi,
                field=f"{field}.inputs",
            )
    for name in spec.params:
        if name not in f.params:
            raise ConfigError(
                f"formula {f.kind} needs parameter {name!r}",
                file=file,
                kpi=kpi,
                field=f"{field}.params",
            )


def _check_measures(kpi: Kpi, *, file: Path) -> None:
    for spec in kpi.measures_used():
        if not is_known_measure(spec.measure or ""):
            raise ConfigError(
                f"unknown measure {spec.measure!r}", file=file, kpi=kpi.id, field="formula.inputs"
            )


def _load_kpis(root: Path) -> tuple[tuple[Kpi, ...], dict[str, Path]]:
    kdir = root / "kpis"
    if not kdir.is_dir():
        raise ConfigError("KPI folder is missing", file=kdir)
    kpis: list[Kpi] = []
    files: dict[str, Path] = {}
    for path in sorted(p for p in kdir.iterdir() if p.suffix in (".yaml", ".yml")):
        data = _read_yaml(path)
        if (
            not isinstance(data, dict)
            or set(data) != {"kpis"}
            or not isinstance(data["kpis"], list)
        ):
            raise ConfigError("expected one top-level key 'kpis' holding a list", file=path)
        for i, raw in enumerate(data["kpis"]):
            kid = raw.get("id") if isinstance(raw, dict) else None
            kpi = _parse(Kpi, raw, file=path, prefix="", kpi=str(kid) if kid else f"#{i + 1}")
            if kpi.id in files:
                raise ConfigError(
                    f"KPI id appears twice (also in {files[kpi.id].name})",
                    file=path,
                    kpi=kpi.id,
                    field="id",
                )
            try:
                safe_component(kpi.id, what="KPI id")
            except Exception as exc:
                raise ConfigError(str(exc), file=path, kpi=kpi.id, field="id") from None
            for fld, msg in check_rubric(kpi.rubric):
                raise ConfigError(msg, file=path, kpi=kpi.id, field=fld)
            _check_formula(kpi.formula, file=path, kpi=kpi.id, field="formula")
            uses_plan = any(s.plan for s in _all_inputs(kpi.formula))
            if uses_plan and not kpi.milestones:
                raise ConfigError(
                    "an input reads the milestone plan but the KPI has no milestones",
                    file=path,
                    kpi=kpi.id,
                    field="milestones",
                )
            if kpi.milestones and set(kpi.milestones) - {1, 2, 3, 4}:
                raise ConfigError(
                    "milestone quarters must be 1-4", file=path, kpi=kpi.id, field="milestones"
                )
            _check_measures(kpi, file=path)
            files[kpi.id] = path
            kpis.append(kpi)
    return tuple(kpis), files


def _all_inputs(f: FormulaDef) -> list[InputSpec]:
    out = list(f.inputs.values())
    for p in f.parts:
        out.extend(_all_inputs(p.formula))
    return out


def _load_plans(root: Path, kpis: Mapping[str, Kpi], units: Mapping[str, Unit]) -> dict[int, Plan]:
    pdir = root / "plans"
    plans: dict[int, Plan] = {}
    if not pdir.is_dir():
        return plans
    for path in sorted(p for p in pdir.iterdir() if p.suffix in (".yaml", ".yml")):
        data = _read_yaml(path)
        plan = _parse(Plan, data, file=path, prefix="", kpi=None)
        if plan.fiscal_year in plans:
            raise ConfigError(
                f"a second plan for fiscal year {plan.fiscal_year}", file=path, field="fiscal_year"
            )
        for i, a in enumerate(plan.assignments):
            for j, code in enumerate(a.units):
                if code not in units:
                    raise ConfigError(
                        f"unknown unit {code!r}", file=path, field=f"assignments[{i}].units[{j}]"
                    )
            for j, kid in enumerate(a.kpis):
                if kid not in kpis:
                    raise ConfigError(
                        f"unknown KPI {kid!r}",
                        file=path,
                        kpi=kid,
                        field=f"assignments[{i}].kpis[{j}]",
                    )
            if a.total_weight is not None:
                total = sum(kpis[k].weight for k in a.kpis)
                if abs(total - a.total_weight) > 1e-9:
                    raise ConfigError(
                        f"KPI weights add up to {total:g}, not the declared total_weight "
                        f"{a.total_weight:g}",
                        file=path,
                        kpi=",".join(a.kpis),
                        field=f"assignments[{i}].total_weight",
                    )
        plans[plan.fiscal_year] = plan
    return plans


def _load(root: Path) -> Catalog:
    units = _load_units(root)
    kpis, files = _load_kpis(root)
    unit_map = {u.code: u for u in units}
    for k in kpis:
        for j, code in enumerate(k.owners):
            if code not in unit_map:
                raise ConfigError(
                    f"unknown owner unit {code!r}", file=files[k.id], kpi=k.id, field=f"owners[{j}]"
                )
    plans = _load_plans(root, {k.id: k for k in kpis}, unit_map)
    return Catalog(path=root, kpis=kpis, units=units, plans=plans, kpi_files=files)


# --------------------------------------------------------------------------- display


def kpi_table_text(cat: Catalog, *, fy: int | None = None) -> str:
    """A readable, Thai-first listing of the catalogue (``kpi catalog``).

    Args:
        cat: The catalogue.
        fy: Only the KPIs the fiscal year's plan names (with the units they apply to).
    """
    from kpilib.rubric import bound_texts

    kpis = cat.kpis if fy is None else cat.kpis_for_year(fy)
    lines: list[str] = []
    head = f"ตัวชี้วัด {len(kpis)} รายการ" + (f" ในแผนปีงบประมาณ พ.ศ. {fy}" if fy else "")
    lines.append(head)
    lines.append("=" * 72)
    for k in kpis:
        code = k.code or "—"
        lines.append(
            f"{k.id}  รหัส {code}  ปีงบประมาณ {k.fiscal_year}  องค์ประกอบ {k.component}  "
            f"น้ำหนัก {k.weight:g}"
        )
        lines.append(f"  {k.name_th}")
        lines.append(f"  ({k.name_en})")
        type_th = INDICATOR_TYPES_TH[k.indicator_type]
        level_th = RESULT_LEVELS_TH.get(k.result_level or "", "")
        lines.append(f"  ประเภท: {type_th}{' / ' + level_th if level_th else ''}")
        op = "≥" if k.target.op == ">=" else ">"
        lines.append(f"  เป้าหมาย: {k.target.text_th} ({op} {k.target.value:g})")
        lines.append(f"  สูตร ({k.formula.kind}): {k.formula_th.strip()[:160]}")
        for p in k.formula.parts:
            lines.append(f"    - {p.id} ({p.formula.kind}, {p.weight:g} คะแนน): {p.name_th}")
        if k.milestones:
            plan = " / ".join(f"Q{q} {v:g}" for q, v in sorted(k.milestones.items()))
            lines.append(f"  แผนรายไตรมาส: {plan}")
        by = k.rubric.by_level()
        texts = bound_texts(k.rubric)
        bounds = " | ".join(
            f"{lv}: {texts[lv]}"
            + (f" + {', '.join(by[lv].conditions)}" if by[lv].conditions else "")
            + f" = {k.weight * lv / 5:g} คะแนน"
            for lv in range(5, 0, -1)
        )
        zero = "; ต่ำกว่าระดับ 1: ระดับ 0" if k.rubric.has_level_zero() else ""
        lines.append(f"  เกณฑ์ ({k.rubric.scoring}): {bounds}{zero}")
        if fy is not None:
            units = [u.code for u in cat.units if k in cat.kpis_for_unit(u.code, fy)]
            shown = ", ".join(units[:6]) + (
                f" … (รวม {len(units)} หน่วยงาน)" if len(units) > 6 else ""
            )
            lines.append(f"  หน่วยงาน: {shown}")
        lines.append("-" * 72)
    return "\n".join(lines)
