"""The web viewer served by `lse serve` at `/`: archive, monitoring and evaluation pages.

A skin over the same services as the REST API (docs/viewer.md): `lse.web.app.mount_viewer`
adds its pages and static files to the API's FastAPI app; `lse.web.report` writes the
same views as one self-contained HTML file. Nothing is imported here, so a report does
not load the web server's modules.
"""
