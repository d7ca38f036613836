"""Packages: which package databases each layer holds, what each package weighs, what is reached."""

DEFAULT_FILE = ".layerscope.yaml"
"""The packages CI rules file (here, so that the command line names it without the analysis)."""
