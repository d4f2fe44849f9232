# source-twilio as Airbyte runs it: `docker run <image> spec|check|discover|read ...`.
#
# Real build:  docker build -t airbyte/source-twilio:dev .
# Local check: make docker-test (builds on a local Debian stand-in for the base: --build-arg BASE_IMAGE=...)
#
# The base must provide python 3.11 with pip >= 22.3 (for --python) and the venv module, a user
# `airbyte` and /airbyte, as airbyte/python-connector-base 4.0.x does. No build tools are needed:
# the dependencies are installed from wheels only (--only-binary). Keep the default in step with metadata.yaml
# (connectorBuildOptions.baseImage); unit_tests/test_packaging.py checks that they agree.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

FROM ${BASE_IMAGE} AS build
USER root
WORKDIR /build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
# The connector gets a virtualenv of its own, filled by the base's pip (`--python`) so that the venv
# holds exactly constraints.txt plus the connector: not the packages of the base's Python (poetry and
# its dependencies on the official base), and no pip. It also sidesteps PEP 668 on Debian-packaged
# Pythons without `--break-system-packages`.
RUN python -m venv --without-pip /airbyte/venv
# Dependencies first, in their own layer: rebuilt only when the pins change. The test suites that
# some wheels ship (pandas, numpy, nltk, ...: ~55 MB) are never imported at run time: dropped.
COPY constraints.txt ./
RUN python -m pip --python /airbyte/venv/bin/python install --no-cache-dir --no-deps --only-binary :all: -r constraints.txt \
 && find /airbyte/venv/lib/python3*/site-packages -mindepth 2 -type d \( -name tests -o -name test \) \
      -prune -exec rm -rf {} +
# .dockerignore lets through only what installing the package needs.
COPY . ./
RUN python -m pip --python /airbyte/venv/bin/python install --no-cache-dir --no-deps -c constraints.txt . \
 && python -m pip --python /airbyte/venv/bin/python check

FROM ${BASE_IMAGE}
COPY --from=build /airbyte/venv /airbyte/venv
COPY main.py /airbyte/integration_code/main.py
ENV PATH=/airbyte/venv/bin:$PATH
WORKDIR /airbyte/integration_code

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.name=airbyte/source-twilio
LABEL io.airbyte.version=0.1.0

USER airbyte
