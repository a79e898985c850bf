"""The semantic model of a file: imports, scopes and bindings, shared by every analysis.

`imports` turns the import statements of either front end (libcst for the linter, `ast` for
the project index) into neutral records resolved by one table; `scopes` holds, per scope,
the bindings of each name, the values assigned to each key, the keys used as modules and
the calls and loops (`ctx.semantic` for the whole file, `ctx.scope_facts(scope)` for one).
What an object key holds is `analysis/values.py`'s question, what a model contains
`analysis/contents.py`'s; both read this model.

The structural model of BN2xx reads it too: its `Frame`s (the module and each function)
are this model's scopes, seen as the structural questions want them.
"""
