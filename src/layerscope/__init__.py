"""layerscope: what is inside a container image, layer by layer, and where its bytes are wasted."""

__version__ = "0.2.0"
