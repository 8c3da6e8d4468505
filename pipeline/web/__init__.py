"""``claimscan serve``: a small newsroom web app over the checking pipeline.

Editors paste a link or text (or upload a file), watch the check run, review each
claim and find past checks; ``/feeds`` shows what scheduled ``claimscan feed`` runs
found. :func:`pipeline.web.app.create_app` builds the ASGI application; the modules
beside it hold its database (``store``), background checks (``worker``), access rules
(``security``), page data (``views``) and the feed state reader (``feeds``).
"""

from pipeline.web.app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
