"""confo-web: ``confo web URL``, a browser console for any store Confo reaches.

See docs/console.md. :func:`confo_web.app.create_app` builds the Starlette application over a
loaded manager, for embedding or tests.
"""
