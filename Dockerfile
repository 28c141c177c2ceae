# Builds the `hothour` binary from the workspace.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p hothour-api --bin hothour

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 hothour
COPY --from=build /src/target/release/hothour /usr/local/bin/hothour
USER hothour
EXPOSE 8080
ENV BIND=0.0.0.0:8080
ENTRYPOINT ["/usr/local/bin/hothour"]
