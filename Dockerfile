# One image for everything Septa runs in a cluster: `septa serve --kubernetes` (the Deployment), and the `septa agent`
# sidecar and `septa-init` container the webhook injects (sh and iptables are here for the latter). The `septa`
# launcher is the entrypoint, so the Deployment's args are septa's own (serve --kubernetes ...).
#
# Build the jar first, then the image (docs/kubernetes.md, "Building the image"):
#   ./mvnw -B package -DskipTests
#   docker build -t REGISTRY/septa:TAG .
# Runs as uid/gid 65532 and needs no writable root file system (the Deployment mounts /tmp and the state directory).
FROM eclipse-temurin:25-jre

RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 septa \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin septa

# The launcher finds the jar at control-plane/target/septa.jar next to itself and the JDK at $JAVA_HOME (set by the base).
COPY septa /opt/septa/septa
COPY control-plane/target/septa.jar /opt/septa/control-plane/target/septa.jar

USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["/opt/septa/septa"]
