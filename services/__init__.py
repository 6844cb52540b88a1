"""Application services: the write side, HTTP intake, audit CLI, reporting consumers, CLI."""
