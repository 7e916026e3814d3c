"""The WSGI entry point: gunicorn wsgi:app."""

from servicemap import create_app

app = create_app()
