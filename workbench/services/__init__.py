"""Use cases over a migration project: Flask-Migrate's verbs, review and verify."""
