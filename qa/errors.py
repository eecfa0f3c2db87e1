"""Typed errors: the library raises these; the CLI and the web app turn them into one line."""


class QAError(Exception):
    """A user-facing problem with a message that says what to do next."""


class NoIndexError(QAError):
    def __init__(self, index_dir):
        super().__init__(f"No index in {index_dir}/ — run: qa index")


class BrokenIndexError(QAError):
    def __init__(self, index_dir, why: str):
        super().__init__(f"The index in {index_dir}/ is unreadable ({why}) — rebuild it: qa index --full")


class ReportError(QAError):
    """A report file that cannot be read; it is named and skipped."""


class EmbedderError(QAError):
    """An embedding backend that cannot be loaded."""
