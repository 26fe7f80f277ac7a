# tribune — container image (Debian 12).
#
#   docker build -t tribune .
#   docker run --rm --network host -e LIVEKIT_KEYS="mykey: <32+ char secret>" tribune
#
# The default config (conf/tribune.yaml) has no API keys: pass LIVEKIT_KEYS, or
# mount your own config over /etc/tribune/tribune.yaml. See docs/deployment.md.
#
# Build argument SRTP (meson option -Dsrtp):
#   subproject (default)  libsrtp 2.5.0 built with OpenSSL from Debian's source
#                         package; the build fails if the source cannot be fetched
#   auto                  as above, silently falling back to the system library
#   system                Debian's libsrtp2 (NSS backend, about 5x slower SRTP)

# ---- build stage ------------------------------------------------------------
FROM debian:bookworm-slim AS build
ARG SRTP=subproject

WORKDIR /src
# Build dependencies first, in their own layer. scripts/install-deps installs
# the Debian packages (compiler, meson, ninja, -dev libraries) and fetches
# libsrtp2's source with `apt-get source` into subprojects/packagefiles/.
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps && rm -rf /var/lib/apt/lists/*

COPY . .
# include/ holds no tracked file yet; meson needs the folder to exist.
RUN mkdir -p include \
 && meson setup /build . -Dbuildtype=release -Dtests=false -Dsrtp=${SRTP} \
 && ninja -C /build \
 && /build/tribune --version \
 && if /build/tribune --version | grep -q 'system library'; then \
      echo libsrtp2-1 > /build/extra-runtime-packages; \
    else \
      : > /build/extra-runtime-packages; \
    fi

# ---- runtime stage ----------------------------------------------------------
FROM debian:bookworm-slim

# Runtime libraries only. libwebsockets-evlib-uv is the libuv event-loop plugin
# that libwebsockets loads at run time: without it tribune cannot start.
# libusrsctp2 carries data channels; libhiredis0.14, libnice10 (its STUN
# library) and libopus0 are for the
# Redis/media milestones.
COPY --from=build /build/extra-runtime-packages /tmp/extra-runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libwebsockets17 libwebsockets-evlib-uv libuv1 libyaml-0-2 libjansson4 \
      libprotobuf-c1 libssl3 libhiredis0.14 libnice10 libopus0 libusrsctp2 zlib1g libcurl4 \
      $(cat /tmp/extra-runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /tmp/extra-runtime-packages \
 && useradd --system --uid 10001 --user-group --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin tribune

COPY --from=build /build/tribune /usr/local/bin/tribune
COPY conf/tribune.yaml /etc/tribune/tribune.yaml

# 7880 HTTP/WebSocket/Twirp (live now). The others are planned: 7881 ICE-TCP,
# 7882/udp media, 3478 TURN (UDP and TCP), 5349 TURN/TLS.
EXPOSE 7880/tcp 7881/tcp 7882/udp 3478/udp 3478/tcp 5349/tcp

USER tribune

# GET /healthz on the default port, without curl in the image (bash /dev/tcp).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/7880 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && grep -q '\"status\":\"ok\"' <&3"]

ENTRYPOINT ["/usr/local/bin/tribune"]
CMD ["--config", "/etc/tribune/tribune.yaml"]
