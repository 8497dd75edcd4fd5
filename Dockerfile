# skewcheck in a container, with its decoders pinned: Pillow, OpenCV (and the libjpeg-turbo each
# bundles in its wheel) and TensorFlow decode the same JPEG differently across versions, so the
# image fixes them. Build (docs/ci.md, "Container image"):
#   docker build -t skewcheck .                                   # from the public slim base
#   docker build --build-arg BASE=localhost/debian-python:3.11 .  # from a base built elsewhere
# CI builds it from Debian packages only (mmdebstrap base, buildah) and runs it: .ci/container
# Run: docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" -w /work skewcheck compare --example
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

# Versions of the decoders, as tested (the wheels bundle their libjpeg-turbo: Pillow 13.0.0 ships
# libjpeg-turbo 3.2.0; opencv-python-headless ships its own build of it).
ARG PILLOW_VERSION=13.0.0
ARG OPENCV_VERSION=5.1.0.95
ARG TENSORFLOW_VERSION=2.21.0
ARG KERAS_VERSION=3.15.1
ARG NUMPY_VERSION=2.4.6

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3

# A venv of its own: the same steps on the public python image and on a base of Debian's own
# python3 (whose system pip refuses to install outside one, PEP 668). Needs python3 with venv.
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv

WORKDIR /opt/skewcheck
COPY pyproject.toml README.md ./
COPY skewcheck ./skewcheck
RUN python -m pip install \
        "numpy==${NUMPY_VERSION}" \
        "pillow==${PILLOW_VERSION}" \
        "opencv-python-headless==${OPENCV_VERSION}" \
        "tensorflow-cpu==${TENSORFLOW_VERSION}" \
        "keras==${KERAS_VERSION}" \
    && python -m pip install . \
    && useradd --create-home --uid 10001 skewcheck

USER skewcheck
ENV SKEWCHECK_CACHE_DIR=/home/skewcheck/.cache/skewcheck
WORKDIR /work
ENTRYPOINT ["skewcheck"]
CMD ["--help"]
