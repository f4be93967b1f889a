"""The process boundary: the child that runs env.py, the client that starts it, forking."""
