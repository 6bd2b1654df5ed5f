"""Make folium maps self-contained: Leaflet inlined, no CDN, opens without a network.

Folium's HTML loads Leaflet, jQuery, Bootstrap and icon fonts from CDNs, which government
networks often block (and which are unreachable offline). :func:`inline_assets` replaces
the Leaflet and Leaflet.fullscreen references with the copies bundled in
``equiserve/outputs/maps/assets`` (Leaflet 1.9.3, BSD-2-Clause; Leaflet.fullscreen 3.0.0, MIT;
their licences are beside them), with the images they use as data URIs, and drops every
other external script and stylesheet: equiserve's maps use only Leaflet itself.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

#: External files replaced by a bundled copy (matched on the end of the URL).
BUNDLED = {
    "leaflet.js": "leaflet.js",
    "leaflet.css": "leaflet.css",
    "Control.FullScreen.min.js": "Control.FullScreen.js",
    "Control.FullScreen.js": "Control.FullScreen.js",
    "Control.FullScreen.css": "Control.FullScreen.css",
}
_MIME = {".png": "image/png", ".svg": "image/svg+xml"}
_SCRIPT = re.compile(r'<script\s+src="(https?://[^"]+)"\s*>\s*</script>\s*')
_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"\s*/?>\s*')


@cache
def _asset(name: str) -> str:
    text = resources.files("equiserve.outputs.maps").joinpath("assets", name).read_text("utf-8")
    if name.endswith(".css"):  # images referenced by the stylesheet become data URIs
        text = re.sub(r"url\((?:images/)?([\w.-]+\.(?:png|svg))\)", _data_uri, text)
    return text


def _data_uri(match: re.Match[str]) -> str:
    name = match.group(1)
    data = resources.files("equiserve.outputs.maps").joinpath("assets", name).read_bytes()
    mime = _MIME[name[name.rfind("."):]]
    return f"url(data:{mime};base64,{base64.b64encode(data).decode('ascii')})"


def inline_assets(html: str) -> str:
    """The same page with the bundled Leaflet inlined and no external script or stylesheet.

    >>> page = '<script src="https://cdn.example/leaflet@1.9.3/dist/leaflet.js"></script>'
    >>> out = inline_assets(page)
    >>> out.startswith("<script>") and 'src="http' not in out and "Leaflet" in out
    True
    """

    def script(m: re.Match[str]) -> str:
        local = BUNDLED.get(m.group(1).rsplit("/", 1)[-1])
        if local is None:
            return ""
        # a literal "</script" inside the code would end the element early
        code = _asset(local).replace("</script", "<\\/script")
        return f"<script>{code}</script>\n"

    def link(m: re.Match[str]) -> str:
        local = BUNDLED.get(m.group(1).rsplit("/", 1)[-1])
        return f"<style>{_asset(local)}</style>\n" if local else ""

    return _LINK.sub(link, _SCRIPT.sub(script, html))
