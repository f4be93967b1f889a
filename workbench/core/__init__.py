"""The domain: revision scanning, the graph, databases. No click, no Textual."""
