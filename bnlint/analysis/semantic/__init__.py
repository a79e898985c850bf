"""The semantic model of a file: imports, scopes and bindings, shared by every analysis.

`imports` turns import statements of either front end (libcst, `ast`) into neutral records
and resolves qualified names through one table; `scopes` holds the bindings of each scope.
"""
