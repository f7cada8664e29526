"""Resources the assets, checks, jobs and sensors ask for by name (see definitions.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from orchestration.lib.settings import Settings, load_settings
from orchestration.lib.warehouse import WarehouseConnection
from orchestration.lib.warehouse import connect as connect_warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse of the LEADSCORE_* variables: their settings and connections to it.

    The variables are read when a step uses them, never when the definitions load: a bad
    value fails the step that needs it, naming the variable, and a process that changes the
    environment between runs (a test) is heard. The engines called with these settings open
    their own connections with ``orchestration.lib.warehouse.connect``."""

    @property
    def settings(self) -> Settings:
        return load_settings()

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[WarehouseConnection]:
        with connect_warehouse(self.settings, read_only=read_only) as conn:
            yield conn
