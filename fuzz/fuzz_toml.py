"""atheris: declarative TOML specs (FILE.toml#name)."""

import atheris

with atheris.instrument_imports():
    from _common import main, write

    from skewcheck.pipelines.declarative import load_declarative


def reader(data: bytes) -> None:
    load_declarative(f"{write('spec.toml', data)}#p")


if __name__ == "__main__":
    main(reader)
