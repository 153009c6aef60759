# hookstream's image: the wheel installed into a venv, run as a non-root user.
#
#   docker build -t hookstream .        (or: buildah build -t hookstream .)
#
# The final stage holds the Python runtime and the venv only: no compiler, no pip cache, no source.
# It runs with a read-only root filesystem: nothing is written outside /tmp and /var/lib/hookstream,
# which a pod mounts as emptyDir volumes (the Helm chart does).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
WORKDIR /src
# Every dependency has a binary wheel for CPython 3.11 on x86_64 and arm64 (confluent-kafka bundles
# librdkafka), so even this stage needs no compiler.
RUN python3 -m venv /opt/hookstream
COPY pyproject.toml README.md LICENSE ./
COPY consumer consumer
COPY admin admin
COPY router router
COPY sender sender
COPY store store
COPY schemas schemas
COPY config config
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/hookstream/bin/pip wheel --no-deps -w /wheels . \
 && /opt/hookstream/bin/pip install /wheels/hookstream-*.whl \
 && /opt/hookstream/bin/pip uninstall -y pip

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="hookstream" \
      org.opencontainers.image.description="Kafka domain events to webhooks (REST and SOAP)" \
      org.opencontainers.image.licenses="Apache-2.0"
# The same path as in the build stage: the venv's scripts name their interpreter by absolute path.
COPY --from=build /opt/hookstream /opt/hookstream
# A numeric user, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
RUN mkdir -p /var/lib/hookstream && chown 10001:10001 /var/lib/hookstream
USER 10001:10001
WORKDIR /var/lib/hookstream
# The .pyc files were compiled at install; a read-only root filesystem could take no new ones.
ENV PATH=/opt/hookstream/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    HOOKSTREAM_STORE_URL=sqlite+aiosqlite:////var/lib/hookstream/hookstream.db
EXPOSE 8080
ENTRYPOINT ["hookstream"]
CMD ["run"]
