"""The workbench's widgets: each one a view, no domain logic."""
