"""The report's trend charts: matplotlib (Agg) drawing inline SVG, text kept as text
(``svg.fonttype = none``) so the page's fonts, Noto CJK among them, render Chinese labels."""

from __future__ import annotations

import io
import re
import warnings
from typing import Any

SERIES = (("volume", 1, "{:,.0f}"), ("first_response_median", 1 / 3600, "{:.1f} h"),
          ("first_response_business_median", 1 / 3600, "{:.1f} h"), ("resolution_median", 1 / 3600, "{:.1f} h"),
          ("resolution_business_median", 1 / 3600, "{:.1f} h"), ("fcr_rate", 100, "{:.0f}%"),
          ("csat_percent", 1, "{:.0f}%"), ("nps", 1, "{:.0f}"), ("sla_compliance", 100, "{:.0f}%"))


def trend_svg(trend: list[dict[str, Any]], names: dict[str, str]) -> str:
    """Nine small multiples, one per trend measure, over the report's twelve months."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter

    months = [entry["month"][2:] for entry in trend]
    with warnings.catch_warnings(), plt.rc_context({
            "svg.fonttype": "none", "svg.hashsalt": "servicetrail", "font.size": 8,
            "font.family": "DejaVu Sans", "axes.spines.top": False,
            "axes.spines.right": False}):
        warnings.simplefilter("ignore")  # glyphs matplotlib cannot measure; the page's fonts draw them
        figure, axes = plt.subplots(3, 3, figsize=(10, 6.6), sharex=True)
        for axis, (key, scale, fmt) in zip(axes.flat, SERIES, strict=True):
            values = [None if entry[key] is None else entry[key] * scale for entry in trend]
            xs = [i for i, v in enumerate(values) if v is not None]
            ys = [v for v in values if v is not None]
            axis.plot(xs, ys, marker="o", markersize=3, color="#2563eb", linewidth=1.5)
            if ys:
                axis.annotate(fmt.format(ys[-1]), (xs[-1], ys[-1]), textcoords="offset points", xytext=(0, 5),
                              ha="center", fontsize=7)
            # a title placed at the top of its axes (``y``), not above whatever the axes' tight box
            # holds: nothing is drawn above these axes, and matplotlib's automatic placement measured
            # every tick label of the figure for it (a third of the chart's time)
            axis.set_title(names[key], fontsize=8, y=1.0)
            axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _p, fmt=fmt: fmt.format(v)))
            axis.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        # the months are shared by every axis (``sharex``): set once, shown under the bottom row
        axes[-1][0].set_xticks(range(len(months)), months, rotation=60, fontsize=6)
        for axis in axes[-1][1:]:
            axis.tick_params(axis="x", labelrotation=60, labelsize=6)
        figure.subplots_adjust(left=0.07, right=0.99, top=0.95, bottom=0.08, wspace=0.28, hspace=0.35)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
        plt.close(figure)
    svg = out.getvalue()
    svg = svg[svg.index("<svg"):]  # inline: no XML prolog or doctype
    return re.sub(r'<svg ([^>]*?)width="[^"]+" height="[^"]+"', r'<svg \1width="100%" role="img"', svg, count=1)
