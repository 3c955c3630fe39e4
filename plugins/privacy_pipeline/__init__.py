"""Nightly privacy pipeline of the Scarlet -> Proximus migration.

The package lives under ``plugins/`` so that Airflow finds it on its path; it is
also installed (``pip install -e .``) to provide the ``privacy-pipeline`` command.
"""

__version__ = "0.1.0"

from privacy_pipeline import _spark_connect_guard

_spark_connect_guard.install()
