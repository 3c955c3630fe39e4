"""``privacy-pipeline lint-sql``: sqlfluff on the dbt models, with the pipeline's vars.

sqlfluff's dbt templater compiles every model; models read the configuration through
var() and the run's date and k from the environment, so the templater needs the same
vars and environment dbt gets at run time. An INI file cannot
hold nested vars (scoring weights, segment definitions), hence this small wrapper.
"""

from __future__ import annotations

import logging
import os
import tempfile

from privacy_pipeline.config import DBT_PROJECT_DIR, REPO_ROOT, mark_as_demo_data
from privacy_pipeline.dbt_runner import ENV_CANDIDATE_DB, dbt_environment, working_directory
from privacy_pipeline.run_context import RunContext


def lint_models(paths: list[str] | None = None) -> int:
    """Lint the models; print the violations; return the number of violations."""
    logging.getLogger("sqlfluff").setLevel(logging.WARNING)
    from sqlfluff.core import FluffConfig, Linter

    with tempfile.TemporaryDirectory(prefix="sql-lint-") as scratch:
        # No data is read: the scratch landing zone is empty, hence synthetic.
        mark_as_demo_data(scratch, {"written_by": "privacy-pipeline lint-sql"})
        ctx = RunContext.create(scratch, scratch, "2026-06-20")
        ctx.run_dir.mkdir(parents=True)
        os.environ.update(dbt_environment(ctx))
        # sqlfluff runs dbt from the repository, not from the run folder.
        os.environ[ENV_CANDIDATE_DB] = str(ctx.candidate_db)
        configs = FluffConfig.from_path(str(REPO_ROOT))._configs
        configs["templater"]["dbt"]["context"] = ctx.dbt_vars()
        config = FluffConfig(configs=configs)
        with working_directory(REPO_ROOT):
            result = Linter(config=config).lint_paths(
                tuple(paths or [str(DBT_PROJECT_DIR / "models")]), processes=os.cpu_count()
            )
    violations = 0
    for linted_file in (file for linted_dir in result.paths for file in linted_dir.files):
        for violation in linted_file.get_violations():
            violations += 1
            print(
                f"{os.path.relpath(linted_file.path, REPO_ROOT)}:{violation.line_no}:"
                f"{violation.line_pos}: {violation.rule_code()} {violation.desc()}"
            )
    return violations
