# syntax=docker/dockerfile:1
# One image for every Flashdrop service; the container's command picks the service
# (infra/docker-compose.stack.yml, docs/deploy.md). Not built on the project's machines (they
# have no Docker engine): it repeats the steps `npm start` runs there (npm ci, npm run build) and
# starts the services the way scripts/services.sh does (scripts/instances.js for N instances).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The built bundles (dist/), the production node_modules, and the files the services read at run
# time beside their sources: the Lua scripts, the /ops page and its assets, scripts/instances.js.
COPY --from=build --chown=node:node /app /app
USER node
# The API's port; the wallet (3101), analytics (3102) and the worker's health port (3103) are
# reached only inside the stack's network.
EXPOSE 3000
# Listen on every interface of the container (the default, 127.0.0.1, suits one machine only).
ENV BIND_HOST=0.0.0.0
CMD ["node", "--enable-source-maps", "dist/apps/api/main.js"]
