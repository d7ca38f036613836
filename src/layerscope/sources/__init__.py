"""Image sources: where an image lives (archive, layout, engine, registry) -> an ImageSpec."""
