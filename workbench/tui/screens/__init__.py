"""The workbench's screens: help, confirmations, progress, editor, prompts."""
