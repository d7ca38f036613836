"""The waste advisor: every wasted byte explained, with the change that recovers it."""
