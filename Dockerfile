# nodehost in a container (docs/containers.md):
#   docker build -t nodehost .
#   docker run -p 8080:8080 -v "$PWD/site:/srv/site" nodehost
# The site folder is a volume: worker log files are written into it (<app folder>/iisnode/), so
# it must be writable by uid 1000 (the image's `node` user).

# Build stage: compile TypeScript and pack the npm package, exactly what `npm pack` publishes.
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json README.md ./
COPY bin ./bin
COPY docs ./docs
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm pack --ignore-scripts --pack-destination /tmp && mv /tmp/nodehost-*.tgz /tmp/nodehost.tgz

# Run stage: node and the installed package with its run-time dependencies only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
COPY --from=build /tmp/nodehost.tgz /tmp/nodehost.tgz
RUN npm install -g --no-audit --no-fund /tmp/nodehost.tgz \
 && rm /tmp/nodehost.tgz \
 && npm cache clean --force \
 && mkdir -p /srv/site /var/log/nodehost \
 && chown node:node /srv/site /var/log/nodehost
COPY deploy/docker/nodehost.yml /etc/nodehost/nodehost.yml
USER node
WORKDIR /srv/site
VOLUME ["/srv/site"]
EXPOSE 8080
# SIGTERM drains: the listener closes, requests finish (gracefulShutdownTimeout), workers stop.
# Give `docker stop` more time than that: docker stop --time 75.
STOPSIGNAL SIGTERM
# /ready answers 200 once nodehost listens and preloaded applications serve, 503 while it drains.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9180/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["nodehost"]
CMD ["serve", "--config", "/etc/nodehost/nodehost.yml"]
