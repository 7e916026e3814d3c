"""The WSGI entry point: gunicorn wsgi:app."""

import gc

from servicemap import create_app

app = create_app()
# Everything made so far (modules, the app, its schemas) lives as long as the worker: out of
# the garbage collector's full collections, which otherwise walked it all and paused an
# answer for 80-95 ms now and then (11 ms after).
gc.freeze()
