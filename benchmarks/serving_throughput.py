"""Images per second against the local example KServe server (fixtures/serving_example.py).

    python benchmarks/serving_throughput.py [--rounds 3]

For v1 and v2 and a few --endpoint-batch-size / --endpoint-in-flight settings, runs the example
audit through the Python API and prints the median of summary.endpoint.images_per_s (images over
the seconds spent waiting for the endpoint) and of the whole audit's wall time.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.serving_server import example_server, kserve_python_or_reason  # noqa: E402


def main(rounds: int) -> None:
    import skewcheck

    python, how = kserve_python_or_reason()
    if python is None:
        sys.exit(f"no Python with kserve: {how}")
    ex = REPO / "skewcheck" / "example"
    with example_server(python, "scale", Path(tempfile.gettempdir()) / "skewcheck-bench-server.log") as base:
        for path in ("/v1/models/example:predict", "/v2/models/example/infer"):
            for batch, in_flight in ((1, 1), (8, 1), (8, 4), (32, 2)):
                rates, walls = [], []
                for _ in range(rounds):
                    start = time.perf_counter()
                    report = skewcheck.compare(
                        model=str(ex / "model.keras"),
                        train="skewcheck.example.pipelines:train_preprocess",
                        serve=base + path,
                        images=ex / "images",
                        labels=ex / "labels.csv",
                        endpoint_batch_size=batch,
                        endpoint_in_flight=in_flight,
                    )
                    walls.append(time.perf_counter() - start)
                    rates.append(report.summary["endpoint"]["images_per_s"])
                print(
                    f"{path.split('/')[1]} batch {batch:2d} in-flight {in_flight}: endpoint {statistics.median(rates):6.1f} images/s, "
                    f"whole audit {statistics.median(walls):5.2f} s for {report.summary['images']} images"
                )


if __name__ == "__main__":
    main(int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3)
