"""atheris: golden.npz snapshots (UsageError at load, or an outcome per image)."""

import atheris

with atheris.instrument_imports():
    from _common import main, write

    from skewcheck.pipelines.snapshot import SnapshotPipeline


def reader(data: bytes) -> None:
    pipe = SnapshotPipeline(write("golden.npz", data))
    pipe.run(write("x.png", b"img"))


if __name__ == "__main__":
    main(reader)
