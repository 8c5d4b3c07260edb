"""Templates of ``manage.py startconnector`` (``*.tmpl``, string.Template syntax)."""
