# scanpay gateway. Build: docker build -t scanpay .   Run: docker run -p 8080:8080 scanpay
# (Written and reviewed here; this workplace has no Docker engine, so it has not been built.)

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY asconfig.json tsconfig.json tsconfig.build.json ./
COPY assembly ./assembly
COPY types ./types
COPY core ./core
COPY issuer ./issuer
COPY protocol ./protocol
COPY gateway ./gateway
COPY sdk ./sdk
COPY cli ./cli
RUN npm run build

FROM node:20-bookworm-slim
# HOST=0.0.0.0 needs PUBLIC_URL (the gateway refuses to start without it): the demo's is the published port
# on the Docker host; a real deployment sets its own (https://pay.example.com). /metrics is on the ops
# listener, loopback unless OPS_HOST says otherwise (e.g. OPS_HOST=0.0.0.0 on a private network only).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 PUBLIC_URL=http://localhost:8080 SCANPAY_DEMO_DIR=/tmp/demo-cards
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# compiled JavaScript and both .wasm builds (dist/build/); no TypeScript, no tsx at run time
COPY --from=build /app/dist ./dist
COPY bin ./bin
USER node
EXPOSE 8080
# Real deployments set REDIS_URL, SCANPAY_KEYRING_FILE and SCANPAY_FLEET_KEY_FILE (mounted secrets);
# without them the container runs the self-contained demo on the embedded store.
HEALTHCHECK --interval=10s --timeout=2s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/gateway/main.js"]
