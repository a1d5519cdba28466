"""The `tengen` command line: the one package above both engine (play, search, GTP, arena) and selfplay
(training). engine never imports selfplay or tengen_cli; selfplay never imports tengen_cli
(tests/test_layers.py checks it)."""
