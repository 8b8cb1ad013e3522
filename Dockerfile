# One image for every app; docker-compose.yml chooses the app with `command`.
# The apps run as JavaScript compiled by scripts/build.js (SWC), as `npm run start:*` run them.
FROM node:20.20.2-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Dependencies first, so that a source change reuses this layer; `npm ci` installs exactly the
# lock file.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
 && node -e "require('@swc/core').transformSync('let a: number = 1', { jsc: { parser: { syntax: 'typescript' } } })" \
 && npm cache clean --force

COPY . .
RUN node scripts/build.js

USER node
EXPOSE 3000
CMD ["node", "--max-semi-space-size=32", "dist/apps/all/src/main.js"]
