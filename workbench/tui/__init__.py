"""The Textual workbench behind ``flask db tui``: a view over ``workbench.core``, nothing more."""
