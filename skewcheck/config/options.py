"""Every ``compare`` option a configuration file may hold: its key (the flag's name), the
parameter it sets, its type, and how a relative path in it is read.

One list, read by the loader (types, choices, paths), by the JSON schema generator
(``skewcheck/config/schema.py``) and by a test that checks it names exactly the flags of
``skewcheck compare``.
"""

from __future__ import annotations

from dataclasses import dataclass

# how a value that names a file is resolved against the configuration file's folder
PATH = "path"  # a file or folder
PATH_OR_URI = "path-or-uri"  # a local path, or a URI (s3://, gs://, file://, http(s)://) left as it is
PIPELINE_REF = "pipeline"  # file.py:fn | spec.toml#name | golden.npz | tensors:DIR | pkg.module:fn | URL
MODEL_REF = "model"  # model file or folder | pkg.module:fn | none
CALLABLE_REF = "callable"  # file.py:fn | pkg.module:fn


@dataclass(frozen=True)
class Option:
    key: str  # the flag without its dashes, snake case: ``fail_on`` for --fail-on
    param: str  # the ``compare`` command's parameter it sets
    type: str  # "string", "number", "integer", "boolean", "strings" (a list), "integer-or-string", "number-or-string"
    help: str
    choices: tuple[str, ...] = ()
    path: str | None = None  # PATH, PATH_OR_URI, PIPELINE_REF, MODEL_REF, CALLABLE_REF: resolved against the file
    minimum: float | None = None
    maximum: float | None = None

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


def _o(key: str, type_: str, help_: str, **extra: object) -> Option:
    param = extra.pop("param", key)
    return Option(key, str(param), type_, help_, **extra)  # type: ignore[arg-type]


OPTIONS: tuple[Option, ...] = (
    _o("model", "string", "model file or folder, pkg.module:fn, or none", path=MODEL_REF),
    _o("train", "string", "training pipeline reference", path=PIPELINE_REF),
    _o("serve", "string", "serving pipeline reference, or a live endpoint URL", path=PIPELINE_REF),
    _o("images", "string", "folder of images, or a URI; default: the built-in probe set", path=PATH_OR_URI),
    _o("labels", "string", "CSV with header file,label", path=PATH_OR_URI),
    _o("class_names", "string", "one class name per line", path=PATH),
    _o("report", "strings", "reports to write; format from the extension", path=PATH),
    _o("format", "string", "report format when the extension does not tell", param="report_format"),
    _o("fail_on", "string", "gate", choices=("critical", "major", "minor", "never")),
    _o("max_flip_rate", "number", "gate: fail above this top-1 flip rate", minimum=0.0, maximum=1.0),
    _o("device", "string", "where the model runs", choices=("cpu", "gpu", "auto")),
    _o("unsafe_load", "boolean", "load Keras models with safe_mode=False"),
    _o("batch_size", "integer", "images per model batch", minimum=1),
    _o("workers", "integer-or-string", "worker processes: a number, or auto", minimum=0),
    _o("sample", "number-or-string", "a seeded sample: a number, a fraction or a percentage ('1%')"),
    _o("timeout", "number", "seconds one pipeline run may take on one image", minimum=0.0),
    _o("seed", "integer", "seed of the sampled repairs and reruns"),
    _o("max_tensor_mb", "number", "largest pipeline tensor kept, in MiB", minimum=0.0),
    _o("atol", "number", "absolute tolerance", minimum=0.0),
    _o("rtol", "number", "relative tolerance", minimum=0.0),
    _o("task", "string", "what the model's answer is", choices=("classification", "dense", "embedding", "detection")),
    _o("threshold", "number", "dense maps: positive above this value"),
    _o("postprocess", "string", "detections: yolov8, yolov5, file.py:fn or pkg.module:fn", path=CALLABLE_REF),
    _o("output", "strings", "which model output is which head: NAME|INDEX[=KIND]"),
    _o("endpoint_input", "string", "endpoint serve side: what is sent", choices=("image", "tensor")),
    _o("endpoint_header", "strings", "endpoint serve side: HTTP headers, 'Name: value'"),
    _o("endpoint_timeout", "number", "endpoint serve side: seconds per request", minimum=0.0),
    _o("endpoint_retries", "integer", "endpoint serve side: extra attempts", minimum=0),
    _o("endpoint_batch_size", "integer", "endpoint serve side: images per request", minimum=1),
    _o("endpoint_in_flight", "integer", "endpoint serve side: requests at once", minimum=1),
    _o("endpoint_ca", "string", "endpoint serve side: CA bundle (PEM)", path=PATH),
    _o("endpoint_bytes", "string", "v2 endpoint, image mode: how bytes are sent", choices=("b64", "binary")),
    _o("endpoint_insecure", "boolean", "endpoint serve side: do not verify TLS"),
    _o("traffic", "string", "a production profile (skewcheck profile --report p.json)", path=PATH),
    _o("fail_on_traffic_share", "number", "with traffic: fail above this weighted share", minimum=0.0, maximum=1.0),
    _o("engine", "string", "where the pipelines run", choices=("local", "ray")),
    _o("ray_address", "string", "with engine ray: the cluster to join"),
    _o("example", "boolean", "run on the bundled example"),
    _o("quiet", "boolean", "no terminal report, no progress bar"),
    _o("verbose", "boolean", "let native logs through"),
)

# the groups of skewcheck.config.audit_config.AuditConfig, and their panels in `compare --help`
PANELS: dict[str, str] = {
    "pipelines": "Pipelines",
    "model": "Model",
    "images": "Images",
    "gate": "Gate",
    "reports": "Reports",
    "execution": "Execution",
    "endpoint": "Endpoint",
    "run": "Run",  # the command line's own: --example, --quiet, --verbose, --config, --profile
}
BY_KEY: dict[str, Option] = {o.key: o for o in OPTIONS}
PROFILES = "profiles"  # the table of named profiles, beside the options
