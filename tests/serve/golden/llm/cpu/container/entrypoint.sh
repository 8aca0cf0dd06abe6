#!/bin/sh
# Start Triton on the repository baked into the image. Rendered by `leanserve package`.
# Inside a container Triton listens on all interfaces so published ports reach it; expose them only
# behind your load balancer or Kubernetes Service. Extra arguments are passed on to tritonserver.
set -eu
exec tritonserver \
  --model-repository=/models \
  --model-control-mode=explicit \
  --load-model=llm \
  --disable-auto-complete-config \
  --strict-readiness=true \
  --exit-timeout-secs=30 \
  --http-port=8000 --grpc-port=8001 --metrics-port=8002 \
  "$@"
