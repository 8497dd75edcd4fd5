"""atheris: a probe set's manifest.json."""

import atheris

with atheris.instrument_imports():
    from _common import TMP, main

    from skewcheck.probes import load_manifest


def reader(data: bytes) -> None:
    (TMP / "manifest.json").write_bytes(data)
    load_manifest(TMP)


if __name__ == "__main__":
    main(reader)
