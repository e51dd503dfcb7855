"""Render ReportData into one self-contained HTML page (inline CSS, inline SVG, a few lines of inline JS)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

import pandas as pd

from python_jobs.report.actions_section import section_actions
from python_jobs.report.cells import blank, fmt_date
from python_jobs.report.data import ReportData
from python_jobs.report.sections import section_interventions, section_models, section_risk, section_topics
from python_jobs.report.segments_section import section_segments

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#17324d;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;opacity:.85}main{padding:10px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:18px 0;padding:14px 18px}
h2{font-size:17px;margin:4px 0 10px}.grid{display:flex;flex-wrap:wrap;gap:14px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:150px}
.card b{display:block;font-size:20px}.headline{white-space:pre-wrap;background:#f3f7fb;border-left:4px solid #17324d;
padding:8px 12px;font-family:ui-monospace,Menlo,monospace;font-size:13px}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}th,td{border-bottom:1px solid #eee;padding:3px 8px;text-align:right}
th{background:#f4f4f4;cursor:pointer}td.t,th.t{text-align:left}.muted{fill:#888;color:#888}
svg.chart text{font-size:11px;fill:#333}svg.chart .ttl{font-size:13px;font-weight:600}svg.chart .lab{fill:#555}
svg.chart .axis{stroke:#888}svg.chart .grid{stroke:#eee}svg.chart .ref{stroke:#999;stroke-dasharray:4,3}
.note{color:#8a6d3b;background:#fcf8e3;padding:6px 10px;border-radius:4px}
.caveats{color:#6b3a00;background:#fff4e5;padding:6px 10px 6px 28px;border-radius:4px}
header{position:sticky;top:0;z-index:5;padding:10px 28px}header .ctx{margin-top:4px;font-size:13px;opacity:1}
header .ctx b{font-weight:600}.ctx-line{color:#555;font-size:12.5px;margin:-4px 0 8px}
.tw{overflow-x:auto;max-width:100%}td.t{white-space:normal;min-width:8em;max-width:26em}td{white-space:nowrap}
th{white-space:normal;vertical-align:bottom;min-width:4em;max-width:12em}th[title]{text-decoration:underline dotted #aaa}
tr.control td{color:#666;background:#f7f7f7}.absent{color:#555;background:#f1f3f5;padding:6px 10px;border-radius:4px}
.card small{display:block;color:#555}
@media print{header{position:static}section{break-inside:avoid-page}}
"""

# Proves rendering in a browser: counts drawn marks per chart and flags the body; sortable tables.
SCRIPT = """
(function(){
  var charts=document.querySelectorAll('svg.chart:not(.empty)'),drawn=0;
  charts.forEach(function(s){var b=s.getBBox();if(s.querySelectorAll('.mark').length&&b.width>0&&b.height>0)drawn++;});
  document.body.setAttribute('data-charts-total',String(charts.length));
  document.body.setAttribute('data-charts-drawn',String(drawn));
  document.body.setAttribute('data-render',drawn===charts.length?'ok':'incomplete');
  document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){
    var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
    rows.sort(function(a,b){var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;
      var nx=parseFloat(x),ny=parseFloat(y);var c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return asc?c:-c;});
    rows.forEach(function(r){tb.appendChild(r);});});});
})();
"""


def _context_bar(data: ReportData) -> str:
    ctx = data.context
    items = []
    if "as_of_date" in ctx:
        items.append(f"As of <b>{fmt_date(ctx['as_of_date'])}</b>")
    if "eval_snapshot_date" in ctx:
        items.append(f"evaluated on <b>{fmt_date(ctx['eval_snapshot_date'])}</b> (out-of-time)")
    if "horizon_days" in ctx:
        items.append(f"horizon <b>{int(ctx['horizon_days'])} days</b>")
    items.append(
        f"currency <b>{escape(str(ctx['currency']))}</b>" if "currency" in ctx else "currency not stated"
    )
    if "customers" in ctx:
        window = f"{int(ctx['lookback_days'])} days" if "lookback_days" in ctx else "the lookback window"
        items.append(
            f"population <b>{int(ctx['customers']):,}</b> customers with an order in the {window} before"
        )
    return f'<div class="ctx">{" · ".join(items)}</div>'


def _cards(data: ReportData) -> str:
    if data.risk_tiers is None:
        return ""
    currency = data.context.get("currency")
    cards = []
    for r in data.risk_tiers.to_dict("records"):
        rule = (
            f"<small>{escape(str(r['risk_tier_rule']))}</small>" if not blank(r.get("risk_tier_rule")) else ""
        )
        status = (
            f"<br>{int(r['active']):,} active, {int(r['lapsed']):,} lapsed"
            if not blank(r.get("active"))
            else ""
        )
        rev = (
            "" if blank(r["revenue_at_risk"]) else f"<br>{r['revenue_at_risk']:,.0f} {currency or ''} at risk"
        )
        cards.append(
            f'<div class="card">{escape(str(r["risk_tier"]))} risk{rule}<b>{int(r["customers"]):,}</b>customers'
            f"{status}{rev}</div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def render_html(data: ReportData, truth: pd.DataFrame | None = None, title: str = "Churn report") -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    headline = f'<div class="headline">{escape(data.headline)}</div>' if data.headline else ""
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in data.notes)
    body = "".join(
        [
            f'<section id="summary"><h2>Summary</h2>{headline}{_cards(data)}{notes}</section>',
            section_actions(data),
            section_risk(data),
            section_models(data),
            section_segments(data),
            section_topics(data),
            section_interventions(data, truth),
        ]
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body><header><h1>{escape(title)}</h1>{_context_bar(data)}<p>Generated {now} from the warehouse "
        "tables; self-contained, opens offline.</p></header>"
        f"<main>{body}</main><script>{SCRIPT}</script></body></html>"
    )
