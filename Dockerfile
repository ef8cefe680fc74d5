# Gatehouse: a production image. Two stages: the first installs the production dependencies and
# builds dist/ (npm ci runs `prepare`); the second holds only what `npm start` runs, as a non-root
# user. test/system/production-install.test.ts runs these same install and start steps (no container
# runtime runs in CI).
#
#   docker build -t gatehouse .
#   docker run -p 3000:3000 -v gatehouse-data:/data -e ISSUER=http://localhost:3000 gatehouse
#
# ISSUER: set it to the exact URL clients use to reach this container (https://auth.example.com
# behind a proxy). Left unset it is http://localhost:3000, which is wrong for anybody outside the
# container, and the server logs a warning at start saying so.

FROM node:20-slim AS build
WORKDIR /app
COPY . .
# Production dependencies only; `prepare` compiles src/ into dist/ with the compiler, a dependency.
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/typescript \
 && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
# The embedded database (when DATABASE_URL is unset) lives in DATA_DIR, owned by the non-root user;
# the server keeps it private (mode 0700) and serves the CLI there (docker exec … npx gatehouse …).
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
VOLUME ["/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/serve.cjs"]
