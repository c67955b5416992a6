# brmacro: Brazilian-macro trading pipeline (bronze -> silver -> agents -> signals -> portfolio -> risk -> report).
# Rules say what depends on what; the brmacro library says how. See README.md and config/README.md.
import os

# Pin BLAS threads before numpy loads, so float sums (and artifact bytes) do not depend on the thread count.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from snakemake.utils import min_version

from brmacro.configdoc import ConfigError, validate_config

min_version("9.0")


configfile: "config/config.yaml"


try:
    validate_config(config, os.path.join(workflow.basedir, "config", "schema.yaml"))
except ConfigError as exc:
    raise WorkflowError(f"brmacro: {exc}") from None


report: "report/workflow.rst"


include: "rules/common.smk"


if LAYOUT == "step":

    include: "rules/steps.smk"

else:

    include: "rules/sessions.smk"


if LAYOUT == "batch":

    include: "rules/batches.smk"


include: "rules/backtest.smk"


rule all:
    default_target: True
    input:
        targets(),


rule bronze_all:
    input:
        targets(layers=("bronze",)),


onstart:
    start_workers()


onsuccess:
    run_status("success", log)


onerror:
    run_status("error", log)
