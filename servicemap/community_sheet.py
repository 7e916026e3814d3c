"""Spreadsheet rows (CSV/XLSX) of communities to community input, and back: English headers
or the Chinese ones, read and written the way spreadsheet.py does facilities'."""

from __future__ import annotations

from .community_schemas import POPULATIONS
from .spreadsheet import neutralise_text, point, whole_number

CHINESE_HEADERS = {
    "外部编号": "external_id", "名称": "name", "英文名称": "name_en", "区县代码": "district_code",
    "街道": "street", "纬度": "lat", "经度": "lon", "坐标系": "coordsys", "常住人口": "population",
    "60岁以上人口": "population_60_plus", "0至3岁人口": "population_0_3",
    "3至6岁人口": "population_3_6",
}
COLUMNS = list(CHINESE_HEADERS.values())
# Columns written from numbers: a minus sign there is a number, never a formula.
NUMBER_COLUMNS = {"lat", "lon", *POPULATIONS}


def row_to_community(row: dict[str, str]) -> dict:
    """A spreadsheet row (English or Chinese headers) -> the JSON a client would POST."""
    row = {CHINESE_HEADERS.get(k.strip(), k.strip()): (v or "").strip() for k, v in row.items()}
    data: dict = {name: row[name] for name in ("external_id", "name", "name_en", "street")
                  if row.get(name)}
    if row.get("district_code"):
        data["district"] = row["district_code"]
    if row.get("lat") or row.get("lon"):
        data["location"] = point(row)
    for name in POPULATIONS:
        if row.get(name):
            data[name] = whole_number(row, name)
    return data


def community_to_row(community) -> dict[str, str]:
    """A stored community as a spreadsheet row (WGS-84), text made safe to open."""
    row = {name: "" if getattr(community, name) is None else str(getattr(community, name))
           for name in COLUMNS if name != "coordsys"}
    row["coordsys"] = "wgs84"
    return {name: row[name] if name in NUMBER_COLUMNS else neutralise_text(row[name])
            for name in COLUMNS}
