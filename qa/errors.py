"""Typed errors: the library raises these; the CLI and the web app turn them into one line."""


class QAError(Exception):
    """A user-facing problem with a message that says what to do next."""

    def __str__(self) -> str:
        # Never an empty line for the user (the web API once answered {"error": ""}).
        return super().__str__() or f"{type(self).__name__} (no details; see the log)"


class NoIndexError(QAError):
    def __init__(self, index_dir):
        super().__init__(f"No index in {index_dir}/ — run: qa index")


class BrokenIndexError(QAError):
    """A damaged index; `file` names the damaged file (relative to the build folder) when one is known."""

    def __init__(self, index_dir, why: str, file: str | None = None):
        self.file, self.reason = file, why
        what = f"{file}: {why}" if file else why
        super().__init__(f"The index in {index_dir}/ is unreadable ({what}) — rebuild it: qa index --full")


class IndexBusyError(QAError):
    """Another process holds the index's build lock for longer than we were willing to wait."""


class EmbedderMismatchError(QAError):
    """The configured embedder is not the one the index was built with (or makes vectors of another size)."""


class ReportError(QAError):
    """A report file that cannot be read; it is named and skipped."""


class EmbedderError(QAError):
    """An embedding backend that cannot be loaded."""
