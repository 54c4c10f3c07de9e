# MassaCorp API image. Runs TypeScript through tsx (a runtime dependency); one build stage makes the admin
# console (web/ → web/dist, served at /admin) with the dev dependencies, which the final image does not carry.
# BASE: the official image by default; CI, which reaches no image registry, builds an equivalent one locally and
# passes --build-arg BASE=localhost/node:20-bookworm-slim (.ci/image.sh, docs/operations.md "Containers").
ARG BASE=node:20-bookworm-slim
FROM ${BASE} AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY web ./web
COPY scripts ./scripts
RUN npm run build:web

FROM ${BASE}
WORKDIR /app
COPY package.json package-lock.json ./
# The npm cache (~110 MB) is removed in the layer that fills it: a later RUN could not shrink the image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Only what the process reads at run time: the sources (tsx), the migrations (drizzle/, read by `migrate`), the
# TypeScript settings tsx follows, and the built console. Tests, bench, docs and tooling stay out (.dockerignore).
COPY tsconfig.json ./
COPY drizzle ./drizzle
COPY src ./src
COPY --from=console /app/web/dist ./web/dist
RUN mkdir -p /app/data && chown node:node /app/data
ENV HOST=0.0.0.0 PORT=8000 DATA_DIR=/app/data
EXPOSE 8000
USER node
# A shell-form HEALTHCHECK: the shell expands $PORT, so a container run with another PORT stays healthy.
# /health is liveness (no I/O); readiness, /ready, is for the load balancer (docs/operations.md, Probes).
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:${PORT:-8000}/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
