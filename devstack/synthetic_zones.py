"""Write a realistic, deterministic taxi zone lookup in the exact format of the release's `misc/taxi_zone_lookup.csv`:
265 zones with the real borough sizes and service zones, quoted text, ids 1 (Newark Airport), 132 and 138 (the
airports), 264 and 265 (the unknown zones `NV` and `NA`, service zone `N/A`, which a CSV reader takes for NULL
unless told otherwise), names with slashes, apostrophes and one name shared by two zones, as the real file has.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ZONE_LOOKUP_PATH = "misc/taxi_zone_lookup.csv"  # under the release's base URL
HEADER = '"LocationID","Borough","Zone","service_zone"'
# Zones per borough in the real lookup (265 in all, the 2 unknown ones included).
BOROUGH_ZONES = {"EWR": 1, "Queens": 69, "Bronx": 43, "Manhattan": 69, "Staten Island": 20, "Brooklyn": 61,
                 "Unknown": 2}
FIXED = {
    1: ("EWR", "Newark Airport", "EWR"),
    132: ("Queens", "JFK Airport", "Airports"),
    138: ("Queens", "LaGuardia Airport", "Airports"),
    264: ("Unknown", "NV", "N/A"),
    265: ("Unknown", "NA", "N/A"),
}
UPTOWN_MANHATTAN_ZONES = 13  # Manhattan zones outside the yellow zone: "Boro Zone"
_STEMS = ("Astor", "Bay", "Bell", "Cedar", "Clinton", "Crown", "Elm", "Fair", "Forest", "Glen", "Grand", "Harbor",
          "Hunter", "Kings", "Lenox", "Linden", "Maple", "Mill", "Oak", "Ocean", "Pelham", "Pine", "River", "Rock",
          "Spring", "Sunset", "Union", "Van", "Willow", "Wood")
_ENDINGS = ("Park", "Heights", "Hill", "Village", "Gardens", "Beach", "Point", "Square", "Terrace", "Yards")
_SIDES = ("North", "South", "East", "West")


def zone_lookup_path(root: Path) -> Path:
    return Path(root) / ZONE_LOOKUP_PATH


def zone_rows(seed: int = 265) -> list[tuple[int, str, str, str]]:
    """(LocationID, Borough, Zone, service_zone) for ids 1..265."""
    rng = random.Random(seed)
    boroughs = [borough for borough, count in BOROUGH_ZONES.items() for _ in range(count)]
    for borough, _, _ in FIXED.values():
        boroughs.remove(borough)
    rng.shuffle(boroughs)
    names = _zone_names(rng, 265)
    uptown = 0
    rows = []
    for location_id in range(1, 266):
        if location_id in FIXED:
            rows.append((location_id, *FIXED[location_id]))
            continue
        borough = boroughs.pop()
        service_zone = "Boro Zone"
        if borough == "Manhattan":
            uptown += 1
            service_zone = "Boro Zone" if uptown <= UPTOWN_MANHATTAN_ZONES else "Yellow Zone"
        rows.append((location_id, borough, names[location_id - 1], service_zone))
    # Like Corona (56 and 57) in the real file: two zones, one name.
    rows[56] = (57, rows[56][1], rows[55][2], rows[56][3])
    return rows


def _zone_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        stem, ending = rng.choice(_STEMS), rng.choice(_ENDINGS)
        shape = rng.random()
        if shape < 0.15:
            name = f"{stem} {ending}/{rng.choice(_STEMS)} {rng.choice(_ENDINGS)}"
        elif shape < 0.3:
            name = f"{rng.choice(_SIDES)} {stem} {ending}"
        elif shape < 0.33:
            name = f"{stem}'s {ending}"
        elif shape < 0.36:
            name = f"{stem} {ending} ({rng.choice(_SIDES)} Side)"
        else:
            name = f"{stem} {ending}"
        if name not in names:
            names.append(name)
    return names


def write_zone_lookup(root: Path, seed: int = 265) -> Path:
    """Write `root/misc/taxi_zone_lookup.csv`; same seed, same bytes."""
    path = zone_lookup_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [HEADER, *(f'{location_id},"{borough}","{zone}","{service_zone}"'
                       for location_id, borough, zone, service_zone in zone_rows(seed))]
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help=f"release root; writes OUT/{ZONE_LOOKUP_PATH}")
    args = parser.parse_args(argv)
    print(f"wrote {write_zone_lookup(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
