"""Shared fixtures: small real report excerpts (tests/data) and a fast hash embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.config import Settings
from qa.store import build_index, load_index

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def reports(tmp_path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for path in DATA.iterdir():  # the report excerpts; tests/data/clean/ holds cleaner fixtures
        if path.is_file():
            shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture
def settings(tmp_path, reports) -> Settings:
    return Settings(reports_dir=reports, index_dir=tmp_path / "index", embedder="hash")


@pytest.fixture
def index(settings):
    build_index(settings)
    return load_index(settings.index_dir)
