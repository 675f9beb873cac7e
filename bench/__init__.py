"""Midway's benchmarks: each one runs beside a baseline measured in the same run.

``python -m bench`` runs them all (``--quick`` for a small version, or name some). A benchmark
is a module of this package with ``run(quick: bool = False) -> list[dict]``; each dict is one
row of the results table, built with :func:`bench.common.row`: ``benchmark``, ``metric``,
``value``, ``unit``, ``baseline``, ``ratio`` (value / baseline), ``target``, ``verdict``
(``pass``, ``FAIL`` or ``info``) and ``notes``. Missing keys are shown as blanks.
"""
