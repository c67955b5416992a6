"""brmacro: a Brazilian-macro trading pipeline, one library call per Snakemake rule."""

__version__ = "0.1.0"
__all__ = ["__version__"]
