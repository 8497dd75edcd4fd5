"""Issue 24's mutation of ``.keras`` archives: each mutant through the model loader is a loaded
model or one line of UsageError, never another exception, a crash or unbounded memory.

Mutants of ``fixtures/models/tiny.keras`` (a zip of metadata.json, config.json and
model.weights.h5, stored): the central directory's declared sizes of a member changed (0, cut,
doubled, 2 GiB, 4 GiB - 1), the archive cut short, one member's data cut short inside a valid zip,
a member missing or twice, and config.json mutated as a tree (values of other types, non-finite
or out-of-range numbers, keys dropped or added; tests/e2e/test_fuzz_answers.py's mutator) or as bytes
(truncated, flipped, nested deeper than the JSON reader goes). All load in one child process
(TensorFlow imports once), whose largest RSS is checked: a crash there fails the test with the
mutant it was on, not pytest. Seeded. Its memory is not bounded yet (see the test's last lines).
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

from tests.conftest import REPO
from tests.e2e.test_fuzz_answers import mutate_bytes, mutate_tree

TINY = REPO / "fixtures" / "models" / "tiny.keras"

CHILD = """
import json, resource, sys
from skewcheck.errors import UsageError
from skewcheck.models.loader import load_model

for path in sys.argv[1:]:
    print(json.dumps({"mutant": path}), flush=True)  # the last one printed is the one a crash was on
    try:
        runner = load_model(path, device="cpu")
        print(json.dumps({"loaded": True, "outputs": len(runner.info.outputs)}), flush=True)
    except UsageError as exc:
        print(json.dumps({"usage_error": str(exc)}), flush=True)
    except BaseException as exc:  # what the test fails on
        print(json.dumps({"escaped": f"{type(exc).__name__}: {exc}"[:500]}), flush=True)
print(json.dumps({"max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""


def _members() -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(TINY) as z:
        return [(info, z.read(info.filename)) for info in z.infolist()]


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a duplicate name is one of the mutations
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def _declared(data: bytes, member: int, size: int) -> bytes:
    """The archive with ``member``'s uncompressed size in the central directory set to ``size``."""
    out = bytearray(data)
    at = -1
    for _ in range(member + 1):
        at = out.index(b"PK\x01\x02", at + 1)
    out[at + 24 : at + 28] = struct.pack("<I", size)
    return bytes(out)


def mutants(out: Path, seed: int = 24) -> list[Path]:
    rng = random.Random(seed)
    members = _members()
    plain = [(info.filename, data) for info, data in members]
    original = TINY.read_bytes()
    config = json.loads(dict(plain)["config.json"])
    made: list[bytes] = []
    for member in range(len(members)):
        size = members[member][0].file_size
        for declared in (0, size // 2, size * 2, 2**31, 2**32 - 1):
            made.append(_declared(original, member, declared))
    for _ in range(4):
        made.append(original[: rng.randrange(len(original))])  # the archive cut short
    for name, _ in plain:  # one member cut short, in a valid zip
        made.append(_zip([(n, d[: rng.randrange(len(d))] if n == name else d) for n, d in plain]))
    made.append(_zip([(n, d) for n, d in plain if n != "config.json"]))
    made.append(_zip([*plain, ("config.json", b"{}")]))  # twice: the later one wins in zipfile
    for i in range(12):
        if i % 3 == 2:
            text = mutate_bytes(json.dumps(config).encode(), rng)
        else:
            text = json.dumps(mutate_tree(config, rng)).encode()
        made.append(_zip([(n, text if n == "config.json" else d) for n, d in plain]))
    made.append(_zip([(n, b"[" * 100_000 if n == "config.json" else d) for n, d in plain]))
    paths = []
    for i, data in enumerate(made):
        path = out / f"m{i:02d}.keras"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_mutated_keras_archives_load_or_are_one_usage_error_line(tmp_path):
    paths = mutants(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *map(str, paths)], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    last = next((e["mutant"] for e in reversed(events) if "mutant" in e), None)
    assert proc.returncode == 0, (proc.returncode, last, proc.stderr[-2000:])
    results = [e for e in events if "mutant" not in e and "max_rss_mb" not in e]
    assert len(results) == len(paths)
    escaped = [e["escaped"] for e in results if "escaped" in e]
    assert not escaped, escaped
    errors = [e["usage_error"] for e in results if "usage_error" in e]
    assert all("\n" not in e and e.startswith("cannot load model ") for e in errors), errors
    assert errors and any(e.get("loaded") for e in results)  # the mutants reach both ends
    # Not asserted: the child's peak memory. Under pytest-xdist one run of these same mutants peaked
    # at 7.9 GB (serial runs: ~650 MB): Keras builds a mutated config's layers, weights included,
    # before anything checks their size. A known hole (the stop note of issue 24), not a pass.
    assert "max_rss_mb" in events[-1]
