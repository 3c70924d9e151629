"""The monthly report in three formats from one set of figures (``projections.report``):
HTML (Jinja2, one self-contained file: inline CSS, charts as inline SVG drawn by matplotlib),
Excel (XlsxWriter: one sheet per table, real numbers with number formats) and PDF (WeasyPrint
from the same HTML; Noto CJK fonts from Debian's ``fonts-noto-cjk`` for Chinese).

Every table is described once (``tables``): its columns, each with a kind that says how a value
is shown (HTML: words and units of the language) and stored (Excel: a number with a format).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from api.reports.i18n import Translator
from api.reports.tables import definitions, finding_text, measure_names, rule_statements, tables

FORMATS = {"html": "text/html; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf", "json": "application/json"}
TEMPLATES = Path(__file__).parent / "templates"


# ------------------------------------------------------------------------------- figures
def compute(services: Any, period: str, as_of: datetime | None = None, known_at: datetime | None = None,
            ) -> dict[str, Any]:
    """The report's figures at a moment, with what an auditor needs to recompute them."""
    from projections.report import monthly_report

    computed_at = services.clock()
    with services.read(as_of, known_at) as view:
        report = monthly_report(view, period, zone=services.zone, weights=services.settings.score_weights,
                                policy=services.policy, compliance_target=services.settings.sla_compliance_target,
                                now=computed_at, planning=services.planning)
        tracked = view.tx.positions("ticket_state")
        chain = view.tx.fetchall("SELECT position, digest FROM audit_chain WHERE id = 1")
    from projections.ticket_state.fold import iso

    known = known_at or computed_at
    report["verification"] = {
        "computed_at": iso(computed_at),
        "log_position": services.app.event_count(),
        "projector_position": max(tracked.values(), default=0),
        "audit_chain_position": chain[0][0] if chain else None,
        "audit_chain_digest": chain[0][1] if chain else None,
        "recompute": (f"servicetrail report --period {period}"
                      + (f" --as-of {iso(as_of)}" if as_of else "") + f" --known-at {iso(known)}"),
    }
    return report


# ---------------------------------------------------------------------------------- HTML
def cell(value: Any, kind: str, t: Translator) -> str:
    if kind == "mixed":
        value, kind = value
    if value is None:
        return "–"
    return {"int": lambda: t.number(int(value)), "rate": lambda: t.percent(value),
            "percent": lambda: t.percent(value / 100), "score": lambda: t.number(value, 2),
            "seconds": lambda: t.hours(value), "minutes": lambda: t.minutes(value),
            "points": lambda: t.points(value), "text": lambda: str(value)}[kind]()


def render_html(report: dict[str, Any], lang: str) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from api.reports.charts import trend_svg

    t = Translator(lang)
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(report["timezone"]) if report["timezone"] else None
    findings = [(f, *finding_text(f, t)) for f in report["findings"]]
    names = measure_names(t)
    html = environment.get_template("monthly.html").render(
        r=report, t=t, lang=lang, tables={table.name: table for table in tables(report, t)}, cell=cell,
        chart=trend_svg(report["trend"], names), findings=findings, rules=rule_statements(report, t),
        definitions=definitions(t), zone=zone, month=t.month(report["period"]))
    return html


# --------------------------------------------------------------------------------- Excel
def render_xlsx(report: dict[str, Any], lang: str) -> bytes:
    import io

    import xlsxwriter

    t = Translator(lang)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {"int": book.add_format({"num_format": "#,##0"}), "rate": book.add_format({"num_format": "0.0%"}),
               "percent": book.add_format({"num_format": "0.0"}), "score": book.add_format({"num_format": "0.00"}),
               "seconds": book.add_format({"num_format": "0.00"}), "minutes": book.add_format({"num_format": "0.0"}),
               "points": book.add_format({"num_format": "0.0"}), "text": None}
    hours, minutes = t("hours"), t("minutes")

    def stored(value: Any, kind: str) -> tuple[Any, str]:
        if kind == "mixed":
            value, kind = value
        if value is None:
            return None, kind
        return (value / 3600 if kind == "seconds" else value), kind

    for table in tables(report, t):
        sheet = book.add_worksheet(table.name[:31])
        sheet.write(0, 0, table.title, bold)
        if table.note:
            sheet.write(1, 0, table.note)
        for c, column in enumerate(table.columns):
            unit = {"seconds": f" ({hours})", "minutes": f" ({minutes})"}.get(column.kind, "")
            sheet.write(3, c, column.title + unit, bold)
            sheet.set_column(c, c, 16 if c else 28)
        for r, row in enumerate(table.rows, start=4):
            for c, column in enumerate(table.columns):
                value, kind = stored(row.get(column.key), column.kind)
                if value is None:
                    sheet.write_blank(r, c, None)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(r, c, value, formats.get(kind))
                else:
                    sheet.write_string(r, c, str(value))
    sheet = book.add_worksheet("findings")
    sheet.write_row(0, 0, [t("Rule"), t("Subject"), t("Finding"), t("Suggested improvement")], bold)
    for r, finding in enumerate(report["findings"], start=1):
        sheet.write_row(r, 0, [finding["rule"], finding["subject"], *finding_text(finding, t)])
    sheet = book.add_worksheet("verification")
    for r, (key, value) in enumerate([("period", report["period"]), ("timezone", report["timezone"]),
                                      ("as_of", report["moment"]["as_of"]), ("known_at", report["moment"]["known_at"]),
                                      *report["verification"].items()]):
        sheet.write_string(r, 0, key)
        if isinstance(value, (int, float)):
            sheet.write_number(r, 1, value)
        elif value is not None:
            sheet.write_string(r, 1, str(value))
    book.close()
    return buffer.getvalue()


# ----------------------------------------------------------------------------------- PDF
def render_pdf(report: dict[str, Any], lang: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_html(report, lang)).write_pdf()


def render(report: dict[str, Any], lang: str, fmt: str) -> bytes:
    if fmt == "html":
        return render_html(report, lang).encode()
    if fmt == "xlsx":
        return render_xlsx(report, lang)
    if fmt == "pdf":
        return render_pdf(report, lang)
    if fmt == "json":
        import orjson

        return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")
