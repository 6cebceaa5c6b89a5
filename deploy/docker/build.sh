#!/usr/bin/env bash
# Builds the container images barrage:$TAG and barrage-etcd:$TAG, FROM
# scratch, from static binaries built here: cmd/barrage, and the real etcd
# server at the version go.mod pins (go.etcd.io/etcd/server/v3). No registry
# is needed: the images land in the local Docker daemon.
#
#   deploy/docker/build.sh                         # barrage:dev, barrage-etcd:dev
#   TAG=v0.3.0 VERSION=v0.3.0 deploy/docker/build.sh
#   REGISTRY=registry.example.com/team/ TAG=v0.3.0 deploy/docker/build.sh
#
# Environment:
#   TAG       image tag (default dev)
#   VERSION   version stamped into barrage (default: git describe, else dev)
#   REGISTRY  prefix of the image names, e.g. registry.example.com/team/ (default none)
#   CA_CERTS  CA bundle copied into the images (default /etc/ssl/certs/ca-certificates.crt)
#   GO, DOCKER  the go and docker commands (default go, docker)
#   GOARCH    target architecture (default: the machine's)
#
# Prints the names of the images it built, one a line, on standard output.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

GO=${GO:-go}
DOCKER=${DOCKER:-docker}
TAG=${TAG:-dev}
REGISTRY=${REGISTRY:-}
CA_CERTS=${CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
# GIT_OPTIONAL_LOCKS=0: describe --dirty must not rewrite the index.
VERSION=${VERSION:-$(GIT_OPTIONAL_LOCKS=0 git describe --tags --always --dirty 2>/dev/null || echo dev)}
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)

if [[ ! -r $CA_CERTS ]]; then
	echo "build.sh: no CA bundle at $CA_CERTS (install ca-certificates or set CA_CERTS)" >&2
	exit 1
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/barrage-images.XXXXXX")
trap 'rm -rf "$ctx"' EXIT

log() { echo "build.sh: $*" >&2; }

log "building static binaries (barrage $VERSION)"
export CGO_ENABLED=0 GOOS=linux
"$GO" build -trimpath \
	-ldflags "-s -w -X github.com/barrage-dev/barrage/internal/version.Version=$VERSION" \
	-o "$ctx/barrage" ./cmd/barrage
"$GO" build -trimpath -ldflags "-s -w" -o "$ctx/etcd" go.etcd.io/etcd/server/v3
etcd_version=$("$GO" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)

cp "$CA_CERTS" "$ctx/ca-certificates.crt"
chmod 0644 "$ctx/ca-certificates.crt"
mkdir -m 0755 "$ctx/empty"
cp "$here/Dockerfile" "$ctx/Dockerfile"

# build IMAGE BIN WORKDIR TITLE VERSION DESCRIPTION
build() {
	log "building $1"
	"$DOCKER" build --quiet \
		--build-arg "BIN=$2" \
		--build-arg "WORKDIR=$3" \
		--build-arg "TITLE=$4" \
		--build-arg "VERSION=$5" \
		--build-arg "DESCRIPTION=$6" \
		--build-arg "REVISION=$revision" \
		--build-arg "CREATED=$created" \
		-t "$1" "$ctx" >&2
}

barrage_image=${REGISTRY}barrage:$TAG
etcd_image=${REGISTRY}barrage-etcd:$TAG
build "$barrage_image" barrage / barrage "$VERSION" \
	"Barrage: distributed load and fault testing (coordinator, agent, client)"
build "$etcd_image" etcd /var/lib/etcd barrage-etcd "$etcd_version" \
	"etcd $etcd_version, the store of Barrage's coordinators"

echo "$barrage_image"
echo "$etcd_image"
