# Gemini Gateway on the official Deno image (Debian-based; runs as the non-root user "deno";
# tini is PID 1 and passes SIGTERM on to Deno, which then lets requests in flight finish).
# Build: docker build -t gemini-gateway .   Run: see docker-compose.yml and the README.
ARG DENO_VERSION=2.9.6
FROM denoland/deno:${DENO_VERSION}

WORKDIR /app
RUN mkdir -p /app/data && chown -R deno:deno /app

USER deno

# Dependencies first, so this layer is reused while only the code changes.
COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno . .
RUN deno install --entrypoint main.ts scripts/build_islands.ts scripts/healthcheck.ts \
 && deno task build

# DENO_USR2_MEMORY_TRIM: on SIGUSR2 (`docker kill -s USR2 <container>`; tini passes it on) Deno hands the
# memory freed after a burst back to the system instead of ending (README "Memory bounds").
ENV PORT=8000 \
    HOST=0.0.0.0 \
    KV_PATH=/app/data/gateway.sqlite3 \
    DENO_USR2_MEMORY_TRIM=1
VOLUME ["/app/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --retries=4 \
  CMD ["deno", "run", "--allow-net=127.0.0.1", "--allow-env=PORT", "scripts/healthcheck.ts"]

# The image's entrypoint (tini, then deno) runs: deno run ... main.ts
CMD ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--unstable-net", "--unstable-no-legacy-abort", "main.ts"]
