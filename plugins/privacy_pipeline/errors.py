"""Errors that map to the documented exit codes of ``privacy-pipeline run``."""


class PipelineError(Exception):
    """Base class; ``exit_code`` is what the CLI returns for it."""

    exit_code = 3


class GateFailed(PipelineError):
    """A privacy gate failed: nothing new is published."""

    exit_code = 1


class UnusableInput(PipelineError):
    """The landing zone breaks the contract (missing table or column, unreadable file)."""

    exit_code = 2


class ConfigError(PipelineError):
    """The configuration is invalid or unsafe (for example k below 15)."""

    exit_code = 2
