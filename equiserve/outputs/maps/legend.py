"""The map legend: one collapsible box explaining every colour and symbol, with units."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape

import folium
import jinja2


@dataclass
class LegendSection:
    """A titled list of (symbol SVG, label) rows; labels are escaped when rendered."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    note: str | None = None

    def add(self, symbol_svg: str, label: str) -> LegendSection:
        self.rows.append((symbol_svg, label))
        return self


_CSS = (".eq-legend{position:absolute;bottom:50px;left:10px;z-index:1000;"
        "background:#fff;border:1px solid #999;border-radius:4px;padding:6px 9px;"
        "font:12px/1.35 sans-serif;max-height:calc(100vh - 120px);max-width:320px;"
        "overflow:auto;box-shadow:0 1px 4px rgba(0,0,0,.3)}"
        ".eq-legend summary{font-weight:700;cursor:pointer}"
        ".eq-legend h4{margin:7px 0 3px;font-size:12px}"
        ".eq-legend .eq-row{display:flex;align-items:center;gap:6px;margin:1px 0}"
        ".eq-legend .eq-row svg{flex:none}.eq-legend .eq-note{color:#555;margin:2px 0}")


def legend_html(sections: list[LegendSection], title: str = "Legend") -> str:
    """The legend as an HTML fragment (a ``<details>`` box open by default)."""
    parts = [f'<style>{_CSS}</style><details class="eq-legend" id="eq-legend" open>'
             f"<summary>{escape(title)}</summary>"]
    for sec in sections:
        parts.append(f"<h4>{escape(sec.title)}</h4>")
        if sec.note:
            parts.append(f'<div class="eq-note">{escape(sec.note)}</div>')
        for svg, label in sec.rows:
            parts.append(f'<div class="eq-row">{svg}<span>{escape(label)}</span></div>')
    parts.append("</details>")
    return "".join(parts)


class _Legend(folium.MacroElement):
    """Moves the legend box into the map container once the map exists."""

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var holder = document.createElement("div");
            holder.innerHTML = {{ this.payload }};
            var style = holder.firstElementChild, box = style.nextElementSibling;
            document.head.appendChild(style);
            L.DomEvent.disableClickPropagation(box);
            L.DomEvent.disableScrollPropagation(box);
            {{ this._parent.get_name() }}.getContainer().appendChild(box);
        })();
        {% endmacro %}
    """)

    def __init__(self, html: str):
        super().__init__()
        self._name = "Legend"
        self.payload = json.dumps(html).replace("</", "<\\/")  # never ends the script


def add_legend(fmap: folium.Map, sections: list[LegendSection], title: str = "Legend") -> None:
    """Place the legend in the map's corner (inside the map container, so fullscreen keeps it)."""
    fmap.add_child(_Legend(legend_html(sections, title)))
