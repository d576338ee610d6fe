"""The project's modules: which app, dotted path and table belongs to which module."""
