"""The web viewer served by `lse serve` at `/`: archive, monitoring and evaluation pages.

A skin over the same services as the REST API (docs/viewer.md): `mount_viewer(app,
settings)` adds its pages and static files to the API's FastAPI app; `lse.web.report`
writes the same views as one self-contained HTML file.
"""

from lse.web.app import mount_viewer

__all__ = ["mount_viewer"]
