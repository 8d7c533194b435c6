# Build: docker build -t flowbot .
# Run:   docker run -p 8080:8080 -v flowbot-data:/data flowbot
# Without a config file the image runs the demo playground (anyone can act
# as anyone). For real use mount a config with playground.demo: false:
#        docker run -v $PWD/config.yaml:/data/config.yaml ... flowbot serve --config /data/config.yaml --addr 0.0.0.0:8080
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/flowbot ./cmd/flowbot \
 && mkdir -p /out/data
# A CJK font, so the report charts can be labelled in Chinese.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >/dev/null

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flowbot /usr/local/bin/flowbot
COPY --from=build /usr/share/fonts/truetype/wqy/wqy-microhei.ttc /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /data
USER nonroot:nonroot
EXPOSE 8080
ENV FLOWBOT_HTTP_ADDR=0.0.0.0:8080
ENTRYPOINT ["/usr/local/bin/flowbot"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
