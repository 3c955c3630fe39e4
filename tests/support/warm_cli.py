"""A long-lived ``privacy-pipeline`` process for the tests: the CLI's own ``main()``, run
once per request read on stdin, in a process started once per pytest worker.

A run in a fresh process pays ~10-15 s on 2 busy cores before its first stage: the
interpreter, Airflow, dbt and Great Expectations imported again, dbt's adapters
registered again. The pipeline's stages and Airflow's ``dag.test`` are made to run several
dates in one process (``privacy-pipeline backfill`` does): this process uses that for the
runs of the whole test session (tests/support/pipeline.py ``run_pipeline``).

Each request (one JSON line) names the arguments, the whole environment of the run (as a
fresh process would get it), and two files for fds 1 and 2. The reply (one JSON line on
the process's own stdout) is the exit code. Between requests the process forgets what a
run may have cached (the configuration files read) and collects the run's garbage.

What a fresh process gives and this one cannot, the tests keep in fresh processes
(``run_cli``): signals and kills, two runs at once, an Airflow metadata database inside the
warehouse (this process has its own, set once: Airflow reads its configuration at import),
another dbt project (read at import) and Spark.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

# Read by the pipeline at import: fixed for the life of the process (the client starts a
# fresh process for a run whose environment differs in these).
READ_AT_IMPORT = ("DBT_PROJECT_DIR",)


def serve() -> None:
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # only the replies go to the client's pipe
    sys.stdout = os.fdopen(1, "w", closefd=False)

    from privacy_pipeline import cli, config
    from privacy_pipeline.startup import collect_run_garbage

    own_airflow = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW")}
    for line in sys.stdin:
        request = json.loads(line)
        replies.write(json.dumps({"returncode": run(request, own_airflow, cli.main)}) + "\n")
        replies.flush()
        config._read_yaml.cache_clear()
        collect_run_garbage()


def run(request: dict, own_airflow: dict[str, str], main) -> int:
    # The run's whole environment, as a fresh process would get it (the next request
    # replaces it again), with this process's own Airflow home.
    os.environ.clear()
    os.environ.update({k: v for k, v in request["env"].items() if not k.startswith("AIRFLOW")})
    os.environ.update(own_airflow)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved_fds = os.dup(1), os.dup(2)
    with open(request["stdout"], "wb") as out, open(request["stderr"], "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            code = main(request["args"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - reported as a crash of the CLI would be
            traceback.print_exc()
            code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            for fd in saved_fds:
                os.close(fd)
    return code


if __name__ == "__main__":
    serve()
