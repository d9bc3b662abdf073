# syntax=docker/dockerfile:1
# duban in two stages: build the server and the wasm client, then copy them
# into a small Debian image. Used by docker-compose.yml.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install trunk --version 0.21.14 --locked
WORKDIR /src
COPY . .
# wasm-bindgen-cli must be exactly the wasm-bindgen version of Cargo.lock.
RUN cargo install wasm-bindgen-cli --version \
      "$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' Cargo.lock)" \
 && npm install --no-audit --no-fund --prefix .tools binaryen@132.0.0 \
 && cargo fetch --locked
RUN cargo build --release --locked -p duban
RUN cd frontend && PATH=/src/.tools/node_modules/.bin:$PATH TRUNK_SKIP_VERSION_CHECK=true trunk build

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/duban --create-home duban
COPY --from=build /src/target/release/duban /usr/local/bin/duban
COPY --from=build /src/frontend/dist /usr/share/duban/web
ENV DUBAN_LISTEN=0.0.0.0:8080 \
    DUBAN_STATIC_DIR=/usr/share/duban/web \
    DUBAN_DATA_DIR=/var/lib/duban
USER duban
EXPOSE 8080
ENTRYPOINT ["duban"]
CMD ["serve"]
