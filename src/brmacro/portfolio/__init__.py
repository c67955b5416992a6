"""brmacro portfolio layer."""
