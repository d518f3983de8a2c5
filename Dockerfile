# One Dockerfile for both services: --build-arg SERVICE=service1|service2. Everything before the
# compile step is identical for both, so the dependency layer is built once and shared, and there
# is exactly one final stage to keep right. Guide: docs/images.md.
#
# Needs BuildKit (RUN --mount): `DOCKER_BUILDKIT=1 docker build` with a 20.10-22.x client, or buildx.
# There is deliberately no frontend directive line: it would pull a frontend image from Docker Hub.
#
# The builder is named by a build argument. The default is the official image, pinned by tag
# only: its digest could not be looked up from the air-gapped machine this was written on, so
# pin it (oven/bun:1.4.4@sha256:...) wherever a registry answers. Machines that cannot pull use
# the shell-less builder assembled from the local Bun (bun scripts/builder-image.ts):
#   --build-arg BUN_IMAGE=timekit/bun-builder:1.4.4
# Every RUN is exec-form so that builder, which has no shell, works too.
ARG BUN_IMAGE=oven/bun:1.4.4

FROM ${BUN_IMAGE} AS builder
WORKDIR /src
# The cache location is set here, not inherited, so every builder keeps it in the cache mount.
# The CA file exists only while a RUN mounts the secret; it is never written to a layer.
ENV BUN_INSTALL_CACHE_DIR=/var/cache/bun \
    NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca

# Manifests first: a source-only change re-uses the installed dependencies.
# Every workspace's package.json must be listed (tests/docker/lint.test.ts checks it).
COPY package.json bun.lock bunfig.toml ./
COPY packages/runtime/package.json packages/runtime/
COPY service1/package.json service1/
COPY service2/package.json service2/
# Extra CA certificates (a TLS-intercepting proxy) arrive as an optional BuildKit secret:
#   --secret id=extra_ca,src="$NODE_EXTRA_CA_CERTS"
# dockerlinter cannot parse an exec-form command after RUN flags and shellchecks "--mount" itself.
# linter ignore=SC2215
RUN --mount=type=cache,id=timekit-bun-install,target=/var/cache/bun,sharing=locked \
    --mount=type=secret,id=extra_ca \
    ["bun", "install", "--frozen-lockfile", "--production"]

COPY tsconfig.json ./
COPY packages/ packages/
COPY service1/ service1/
COPY service2/ service2/
COPY scripts/build.ts scripts/
COPY lib/services.ts lib/
COPY lib/images/ lib/images/

# Build arguments reach RUN as environment variables; builder-stage.ts hands them to
# `bun scripts/build.ts --service=$SERVICE` (exec form cannot expand them itself), then lays out
# the final filesystem in /rootfs: the binary, the exact shared libraries it needs for this
# architecture (read from its ELF header), /etc/passwd with UID 65532, an empty /tmp.
ARG SERVICE
ARG BUILD_VERSION
ARG BUILD_COMMIT
ARG BUILD_TIME
RUN ["bun", "lib/images/builder-stage.ts"]

FROM scratch
ARG SERVICE
ARG BUILD_VERSION
ARG BUILD_COMMIT
ARG BUILD_TIME
ARG SOURCE_URL
COPY --from=builder --chown=0:0 /rootfs/ /
USER 65532:65532
EXPOSE 8080
STOPSIGNAL SIGTERM
# No shell or curl in here: the binary checks its own /healthz on 127.0.0.1:$PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/service", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/service"]
LABEL org.opencontainers.image.title="timekit-${SERVICE}" \
      org.opencontainers.image.description="timekit ${SERVICE}: a Bun single binary on scratch" \
      org.opencontainers.image.version="${BUILD_VERSION}" \
      org.opencontainers.image.revision="${BUILD_COMMIT}" \
      org.opencontainers.image.created="${BUILD_TIME}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="scratch" \
      io.timekit.service="${SERVICE}"
