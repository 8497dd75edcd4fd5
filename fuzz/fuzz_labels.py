"""atheris: --labels CSV and --class-names readers."""

import atheris

with atheris.instrument_imports():
    from _common import main, write

    from skewcheck.images.labels import read_class_names, read_labels


def reader(data: bytes) -> None:
    names = read_labels(write("labels.csv", data), ["cat", "dog"])
    assert all(isinstance(v, int) for v in names.values())
    read_class_names(write("names.txt", data))


if __name__ == "__main__":
    main(reader)
