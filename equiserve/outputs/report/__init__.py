"""The self-contained HTML report: template, formats and inline SVG charts."""
