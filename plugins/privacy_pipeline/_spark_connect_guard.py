"""Keep pyspark's Spark Connect modules from ending the process with exit code 0.

Great Expectations probes every optional Spark module when it is imported, among them
``pyspark.sql.connect``. When the process has no main file (``python -c``, a pytest-xdist
worker, an embedded interpreter) and the Spark Connect extras (grpc) are absent, pyspark
takes itself to be running doctests and calls ``sys.exit(0)``: a privacy gate importing
Great Expectations would end the process with success before checking anything. In such
a process this finder makes ``pyspark.sql.connect`` an ordinary ImportError instead, which
Great Expectations handles as "not installed". The Spark engine uses classic sessions,
never Spark Connect.
"""

from __future__ import annotations

import importlib.abc
import sys

CONNECT_PACKAGE = "pyspark.sql.connect"


def pyspark_would_exit() -> bool:
    """pyspark's own test (pyspark/sql/connect/utils.py, check_dependencies)."""
    main = sys.modules.get("__main__")
    return (
        main is not None
        and getattr(main, "__spec__", None) is None
        and not hasattr(main, "__file__")
        and not hasattr(sys, "ps1")
    )


class SparkConnectGuard(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if (name == CONNECT_PACKAGE or name.startswith(CONNECT_PACKAGE + ".")) and (
            pyspark_would_exit()
        ):
            raise ImportError(
                f"{name} is not available in a process without a main module "
                "(privacy_pipeline._spark_connect_guard)"
            )
        return None


def install() -> None:
    if not any(isinstance(finder, SparkConnectGuard) for finder in sys.meta_path):
        sys.meta_path.insert(0, SparkConnectGuard())
