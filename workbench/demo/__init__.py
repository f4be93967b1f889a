"""``python -m workbench demo``: a small shop project whose migration history is worth a look.

- ``sources``: the project's files and revision history, read from the package data in ``shop/``;
- ``seed``: each database upgraded to its own revision through Alembic's public API;
- ``build``: the project made in a new folder (or made again), never left half-made;
- ``command``: what the command prints and how it opens the workbench on the project.
"""
