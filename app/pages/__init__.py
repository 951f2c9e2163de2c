"""The dashboard: server-rendered pages (Jinja2 + htmx) over the same tenant transactions as
the API. Each module serves one page and the htmx fragments it swaps."""
