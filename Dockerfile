# MassaCorp API image. Runs the built JavaScript (`node dist/main.js`) on the production dependencies only: a
# build stage compiles the server (src/ → dist/, tsc) and the admin console (web/ → web/dist, Vite) with the dev
# dependencies, which the final image does not carry (no TypeScript, tsx, Vite or sources in it).
# BASE: the official image by default; CI, which reaches no image registry, builds an equivalent one locally and
# passes --build-arg BASE=localhost/node:20-bookworm-slim (.ci/image.sh, docs/operations.md "Containers").
ARG BASE=node:20-bookworm-slim
FROM ${BASE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci runs the package's `prepare` (scripts/build-server.mjs --prepare), which does nothing while the sources
# are not copied yet: the dependency layer stays cached across source changes, and the build is the RUN below.
COPY scripts/build-server.mjs ./scripts/
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
COPY scripts ./scripts
RUN npm run build

FROM ${BASE}
WORKDIR /app
COPY package.json package-lock.json ./
# The npm cache (~110 MB) is removed in the layer that fills it: a later RUN could not shrink the image.
# --ignore-scripts: no production dependency has an install script (tests/unit/image-hygiene.test.ts checks the
# lockfile), and the package's own `prepare` builds from sources this stage does not have.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# Only what the process reads at run time: package.json ("type": "module" makes dist/*.js ES modules), the
# built server (dist/, with its source maps: NODE_OPTIONS=--enable-source-maps gives stack traces in src/ lines),
# the migrations (drizzle/, found from dist/platform/db/ as from src/), and the built console. Tests, bench, docs
# and tooling stay out (.dockerignore).
COPY drizzle ./drizzle
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /app/data && chown node:node /app/data
ENV HOST=0.0.0.0 PORT=8000 DATA_DIR=/app/data
EXPOSE 8000
USER node
# A shell-form HEALTHCHECK: the shell expands $PORT, so a container run with another PORT stays healthy.
# /health is liveness (no I/O); readiness, /ready, is for the load balancer (docs/operations.md, Probes).
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:${PORT:-8000}/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# node itself as the container's process, not npm: SIGTERM reaches it directly (the drain, then a clean close).
# The CLI is `node dist/cli.js <command>` (the migration Job: `node dist/cli.js migrate`).
CMD ["node", "dist/main.js"]
