"""Shipping labels, 100 × 150 mm, one per carton: PDF (one page per label, the page exactly
100 × 150 mm) or PNG (one label at 203 dpi, 799 × 1199 pixels).

Each label shows the order, the shipment, the van and its stop (or ``carrier``), ``carton
n of m``, the carton's type and weight, and the tracking code as text and as a Code128
barcode. The barcode's modules come from python-barcode (``barcode.Code128``, which picks
code sets and the check symbol); this module only draws them, each module a whole number
of 203-dpi dots wide, with quiet zones of 10 modules. Drawn with matplotlib's object API
(no pyplot state), under one lock, since its text layout shares caches across threads.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Literal

from barcode import Code128  # type: ignore[import-untyped]
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from models.picking import CartonLabel

#: The label's size.
WIDTH_MM = 100.0
HEIGHT_MM = 150.0
MM_PER_INCH = 25.4
#: The PNG's resolution (a thermal printer's 8 dots per mm) and its size in pixels.
PNG_DPI = 203
PNG_SIZE_PX = (799, 1199)
#: One dot of a 203-dpi printer, in mm.
DOT_MM = MM_PER_INCH / PNG_DPI
#: Blank modules each side of the barcode.
QUIET_MODULES = 10
#: Where the bars are: their band's bottom and height, mm from the label's bottom.
BARS_BOTTOM_MM = 22.0
BARS_HEIGHT_MM = 30.0

LabelFormat = Literal["pdf", "png"]
MEDIA_TYPES: dict[str, str] = {"pdf": "application/pdf", "png": "image/png"}

_LOCK = threading.Lock()


def code128_modules(text: str) -> str:
    """The Code128 symbol of ``text`` as modules, ``1`` a bar and ``0`` a space (start,
    data, check symbol and stop; no quiet zones)."""
    return str(Code128(text).build()[0])


def bar_runs(modules: str) -> list[tuple[int, int]]:
    """The bars of a module string as ``(first module, width in modules)``."""
    runs: list[tuple[int, int]] = []
    start = None
    for k, m in enumerate(modules + "0"):
        if m == "1" and start is None:
            start = k
        elif m != "1" and start is not None:
            runs.append((start, k - start))
            start = None
    return runs


def module_mm(modules: int) -> float:
    """The widest module of whole 203-dpi dots for which the symbol and its quiet zones fit
    the label's width less 4 mm margins."""
    dots = int((WIDTH_MM - 8.0) / DOT_MM // (modules + 2 * QUIET_MODULES))
    return max(dots, 1) * DOT_MM


def _barcode(ax: Axes, code: str) -> None:
    modules = code128_modules(code)
    width = module_mm(len(modules))
    left = round((WIDTH_MM - width * len(modules)) / 2 / DOT_MM) * DOT_MM
    for first, n in bar_runs(modules):
        ax.add_patch(
            Rectangle(
                (left + first * width, BARS_BOTTOM_MM),
                n * width,
                BARS_HEIGHT_MM,
                facecolor="black",
                edgecolor="none",
                antialiased=False,
            )
        )


def _text(ax: Axes, x: float, y: float, text: str, size: float, **kw: object) -> None:
    ax.text(x, y, text, fontsize=size, family="DejaVu Sans", va="top", **kw)  # type: ignore[arg-type]


def _draw(figure: Figure, label: CartonLabel) -> None:
    """One label on a figure of the label's size, in mm coordinates from its bottom left."""
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    width_in, height_in = figure.get_size_inches()
    ax.set_xlim(0, width_in * MM_PER_INCH)
    ax.set_ylim(0, height_in * MM_PER_INCH)
    ax.set_axis_off()
    ax.add_patch(
        Rectangle((2, 2), WIDTH_MM - 4, HEIGHT_MM - 4, fill=False, lw=1.2, edgecolor="black")
    )
    _text(ax, 6, 144, f"from site {label.site_id}", 9)
    _text(ax, 6, 137, "ORDER", 8)
    _text(ax, 6, 132, label.order_id, 20, weight="bold")
    _text(ax, 6, 122, f"channel {label.channel}", 9)
    if label.address:
        _text(ax, 6, 116, label.address[:60], 8)
    _text(ax, 6, 108, f"shipment {label.shipment_id}", 9)
    if label.vehicle_id is not None and label.stop_position is not None:
        where = f"VAN {label.vehicle_id}  STOP {label.stop_position}"
    else:
        where = label.mode.upper()
    _text(ax, 6, 100, where, 16, weight="bold")
    _text(ax, 6, 86, f"CARTON {label.carton_index} OF {label.cartons_count}", 18, weight="bold")
    _text(ax, 6, 72, f"{label.type_id}  {label.weight_kg:.2f} kg", 10)
    _text(ax, 6, 65, f"plan {label.plan_id}", 7)
    _barcode(ax, label.tracking_code)
    ax.text(
        WIDTH_MM / 2,
        BARS_BOTTOM_MM - 3,
        label.tracking_code,
        fontsize=14,
        family="DejaVu Sans Mono",
        ha="center",
        va="top",
    )


def _figure(size_in: tuple[float, float]) -> Figure:
    return Figure(figsize=size_in, facecolor="white")


def labels_pdf(labels: Sequence[CartonLabel]) -> bytes:
    """The labels as a PDF, one 100 × 150 mm page each."""
    out = io.BytesIO()
    size = (WIDTH_MM / MM_PER_INCH, HEIGHT_MM / MM_PER_INCH)
    with _LOCK, PdfPages(out, metadata={"Title": "routeplan shipping labels"}) as pdf:
        for label in labels:
            figure = _figure(size)
            _draw(figure, label)
            pdf.savefig(figure)
    return out.getvalue()


def label_png(label: CartonLabel) -> bytes:
    """One label as a 203-dpi PNG of 799 × 1199 pixels."""
    out = io.BytesIO()
    width_px, height_px = PNG_SIZE_PX
    with _LOCK:
        figure = _figure((width_px / PNG_DPI, height_px / PNG_DPI))
        _draw(figure, label)
        figure.savefig(out, format="png", dpi=PNG_DPI)
    return out.getvalue()
