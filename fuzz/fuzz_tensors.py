"""atheris: tensors:DIR files (.npy, .npz, .bin + .json sidecar, .error): always an outcome."""

import atheris

with atheris.instrument_imports():
    from _common import TMP, main

    from skewcheck.pipelines.tensors_dir import TensorsDirPipeline

SUFFIXES = (".npy", ".npz", ".bin", ".error")


def reader(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    folder, root = TMP / "t", TMP / "imgs"
    folder.mkdir(exist_ok=True)
    root.mkdir(exist_ok=True)
    for p in folder.iterdir():
        p.unlink()
    (root / "x.png").write_bytes(b"img")
    suffix = SUFFIXES[fdp.ConsumeIntInRange(0, len(SUFFIXES) - 1)]
    if suffix == ".bin":
        (folder / "x.png.json").write_bytes(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200)))
    (folder / f"x.png{suffix}").write_bytes(fdp.ConsumeBytes(fdp.remaining_bytes()))
    outcome = TensorsDirPipeline(f"tensors:{folder}", images_root=root, max_tensor_mb=16).run(root / "x.png")
    assert outcome.status in ("ok", "pipeline-error", "decode-error", "missing")


if __name__ == "__main__":
    main(reader)
