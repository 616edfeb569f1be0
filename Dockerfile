# ticketd: build with the project's own scripts, run from a slim image as a non-root user.
#   docker build -t ticketd .
#   docker run -p 3000:3000 -v ticketd-data:/data -e JWT_KEY=$(openssl rand -hex 32) \
#       -e PAYMENTS_PROVIDER=stripe -e STRIPE_KEY=sk_live_...    (or PAYMENTS_PROVIDER=fake: no money)

FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN bash scripts/install-deps && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake cmake
COPY include include
COPY src src
COPY schema schema
COPY web web
COPY bench bench
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTICKETD_TESTS=OFF -DTICKETD_EXAMPLES=OFF \
 && cmake --build /build --target ticketd \
 && strip /build/ticketd

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-0 libssl3 libnats3.4 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin ticketd \
 && mkdir -p /data && chown ticketd:ticketd /data
COPY --from=build /build/ticketd /usr/local/bin/ticketd
USER ticketd
ENV TICKETD_ENV=production \
    TICKETD_METRICS_LISTEN=0.0.0.0:9464 \
    TICKETD_DATA_DIR=/data \
    TICKETD_HOST=0.0.0.0 \
    PORT=3000
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/ticketd"]
