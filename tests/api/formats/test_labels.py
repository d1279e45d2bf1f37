"""Shipping labels: the PDF's pages are exactly 100 x 150 mm (their MediaBox parsed here)
and say what they should (the text read out of the page streams); the PNG is 799 x 1199
pixels at 203 dpi (read with Pillow); its barcode, read off the pixels and decoded by this
test's own Code128 decoder (the symbol table of ISO/IEC 15417), is the tracking code."""

from __future__ import annotations

import io
import re
import zlib

import pytest
from PIL import Image

from api.formats.labels import PNG_DPI, code128_modules, label_png, labels_pdf
from models.picking import CartonLabel

#: Code128's symbols 0..106 as bar/space widths (ISO/IEC 15417); 106 is the stop.
PATTERNS = [
    "212222",
    "222122",
    "222221",
    "121223",
    "121322",
    "131222",
    "122213",
    "122312",
    "132212",
    "221213",
    "221312",
    "231212",
    "112232",
    "122132",
    "122231",
    "113222",
    "123122",
    "123221",
    "223211",
    "221132",
    "221231",
    "213212",
    "223112",
    "312131",
    "311222",
    "321122",
    "321221",
    "312212",
    "322112",
    "322211",
    "212123",
    "212321",
    "232121",
    "111323",
    "131123",
    "131321",
    "112313",
    "132113",
    "132311",
    "211313",
    "231113",
    "231311",
    "112133",
    "112331",
    "132131",
    "113123",
    "113321",
    "133121",
    "313121",
    "211331",
    "231131",
    "213113",
    "213311",
    "213131",
    "311123",
    "311321",
    "331121",
    "312113",
    "312311",
    "332111",
    "314111",
    "221411",
    "431111",
    "111224",
    "111422",
    "121124",
    "121421",
    "141122",
    "141221",
    "112214",
    "112412",
    "122114",
    "122411",
    "142112",
    "142211",
    "241211",
    "221114",
    "413111",
    "241112",
    "134111",
    "111242",
    "121142",
    "121241",
    "114212",
    "124112",
    "124211",
    "411212",
    "421112",
    "421211",
    "212141",
    "214121",
    "412121",
    "111143",
    "111341",
    "131141",
    "114113",
    "114311",
    "411113",
    "411311",
    "113141",
    "114131",
    "311141",
    "411131",
    "211412",
    "211214",
    "211232",
    "2331112",
]
SYMBOL = {p: k for k, p in enumerate(PATTERNS)}


def decode_widths(widths: list[int]) -> str:
    """Bar/space widths (in modules, bar first) of one Code128 symbol as its text."""
    assert len(widths) % 6 == 1, len(widths)
    values = [SYMBOL["".join(map(str, widths[k : k + 6]))] for k in range(0, len(widths) - 7, 6)]
    assert "".join(map(str, widths[-7:])) == PATTERNS[106], "no stop symbol"
    start, *data, check = values
    assert start in (103, 104, 105)
    assert (start + sum(i * v for i, v in enumerate(data, start=1))) % 103 == check
    code = {103: "A", 104: "B", 105: "C"}[start]
    out = ""
    for v in data:
        if code == "C" and v < 100:
            out += f"{v:02d}"
        elif v == 99 and code != "C":
            code = "C"
        elif v == 100 and code != "B":
            code = "B"
        elif v == 101 and code != "A":
            code = "A"
        elif code == "B":
            out += chr(v + 32)
        elif code == "A":
            out += chr(v + 32) if v < 64 else chr(v - 64)
        else:
            raise AssertionError(f"symbol {v} in code set {code}")
    return out


def _runs(pixels: list[bool]) -> list[int]:
    runs, last, n = [], pixels[0], 0
    for p in pixels:
        if p == last:
            n += 1
        else:
            runs.append(n)
            last, n = p, 1
    runs.append(n)
    return runs


def _label(**changes: object) -> CartonLabel:
    base = {
        "plan_id": "p-1",
        "shipment_id": "o-7@w1",
        "order_id": "o-7",
        "channel": "web",
        "site_id": "w1",
        "mode": "van",
        "vehicle_id": "van-2",
        "stop_position": 3,
        "carton_index": 1,
        "cartons_count": 2,
        "type_id": "L",
        "weight_kg": 2.5,
        "tracking_code": "RP4K7Q2M9X3VTA",
    }
    return CartonLabel.model_validate({**base, **changes})


def pdf_pages(pdf: bytes) -> tuple[list[list[float]], list[str]]:
    """Each page's MediaBox and the text of the content streams (pieces of TJ/Tj joined)."""
    boxes = [
        [float(x) for x in m.split()]
        for m in re.findall(rb"/Type /Page\b(?!s).*?/MediaBox \[([^\]]*)\]", pdf, re.S)
    ]
    if not boxes:
        boxes = [[float(x) for x in m.split()] for m in re.findall(rb"/MediaBox \[([^\]]*)\]", pdf)]
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            body = zlib.decompress(stream)
        except zlib.error:
            continue
        shown = re.findall(rb"\[(.*?)\]\s*TJ|\((.*?)\)\s*Tj", body, re.S)
        pieces = []
        for array, single in shown:
            pieces.append(b"".join(re.findall(rb"\((.*?)\)", array)) if array else single)
        if pieces:
            texts.append(" | ".join(p.decode("latin-1") for p in pieces))
    return boxes, texts


def test_the_decoder_reads_the_symbols_of_python_barcode() -> None:
    for code in ["RP4K7Q2M9X3VTA", "RP0123456789AB", "RPZZZZZZZZZZZZ"]:
        modules = code128_modules(code)
        widths = _runs([m == "1" for m in modules])
        assert decode_widths(widths) == code


def test_the_pdf_has_one_100_by_150_mm_page_per_label() -> None:
    labels = [_label(), _label(carton_index=2, tracking_code="RP0000000000ZZ")]
    pdf = labels_pdf(labels)
    assert pdf.startswith(b"%PDF")
    boxes, texts = pdf_pages(pdf)
    assert len(boxes) == 2
    for box in boxes:
        x0, y0, x1, y1 = box
        assert (x1 - x0) == pytest.approx(100 / 25.4 * 72, abs=0.01)  # 283.46 pt
        assert (y1 - y0) == pytest.approx(150 / 25.4 * 72, abs=0.01)  # 425.20 pt
    assert len(texts) == 2
    first, second = texts
    for expected in ["RP4K7Q2M9X3VTA", "o-7@w1", "o-7", "CARTON 1 OF 2", "van-2", "STOP 3"]:
        assert expected in first.split(" | ") or any(expected in t for t in first.split(" | "))
    assert "RP0000000000ZZ" in second.split(" | ")
    assert "CARTON 2 OF 2" in second.split(" | ")


def test_the_png_is_799_by_1199_at_203_dpi_and_its_barcode_decodes() -> None:
    png = label_png(_label(mode="carrier", vehicle_id=None, stop_position=None))
    image = Image.open(io.BytesIO(png))
    assert image.size == (799, 1199)
    dpi = image.info["dpi"]
    assert dpi[0] == pytest.approx(PNG_DPI, abs=0.01)
    grey = image.convert("L")
    dot_mm = 25.4 / PNG_DPI
    row = round(1199 - 37 / dot_mm)  # the bars span 22 to 52 mm above the bottom
    left, right = round(5 / dot_mm), round(95 / dot_mm)  # inside the border
    dark = [grey.getpixel((x, row)) < 128 for x in range(left, right)]
    runs = _runs(dark)
    assert not dark[0] and not dark[-1]
    bars = runs[1:-1]  # without the quiet zones
    unit = sum(bars[:6]) / 11  # the start symbol is 11 modules wide
    assert unit == int(unit) and unit >= 2  # whole dots per module
    widths = [round(w / unit) for w in bars]
    assert [w * unit for w in widths] == bars  # sharp: every run whole modules
    assert decode_widths(widths) == "RP4K7Q2M9X3VTA"
