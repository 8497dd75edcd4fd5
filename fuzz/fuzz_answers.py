"""atheris: an endpoint's answer body (v1 and v2) through the response parser: rows or MalformedResponse."""

import atheris

with atheris.instrument_imports():
    from _common import main

    from skewcheck.serving.protocol import MalformedResponse, outputs_of, unlike_model


def reader(data: bytes) -> None:
    for protocol in ("v1", "v2"):
        try:
            rows = outputs_of(data, protocol, 2)
        except MalformedResponse:
            continue
        assert len(rows) == 2 and all(row for row in rows)
        unlike_model(rows, [(6,)])


if __name__ == "__main__":
    main(reader)
