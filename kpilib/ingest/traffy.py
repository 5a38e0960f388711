"""What the two Traffy Fondue sources share (the dump and the download API v2)."""

from __future__ import annotations

import pandas as pd

from kpilib.ingest.base import Adapter
from kpilib.ingest.parse import FileParse, const_str


class TraffyAdapter(Adapter):
    """Traffy tickets: district names mapped to geocodes, rows outside Bangkok set aside,
    type literals read as tags (all declared); here: the ``source`` and whether the state is
    only known at export time."""

    def derive(self, fp: FileParse, out: dict[str, pd.Series]) -> None:
        index = fp.raw.index
        out["source"] = const_str(self.source_name, index)
        out["state_is_export_time"] = pd.Series(
            self.source.state_at_export_time, index=index, dtype=bool
        )
