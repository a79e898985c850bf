"""bnlint's version, in a module of its own: reading it imports nothing else of bnlint."""

__version__ = "0.1.0"
