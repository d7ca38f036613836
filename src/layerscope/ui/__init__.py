"""The explorer: the only package that imports Textual."""
