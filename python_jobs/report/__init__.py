"""The static HTML report: warehouse tables -> one self-contained HTML file with inline SVG charts."""
